import { createHash } from "node:crypto";
import type { RedisClient } from "./redis-connection.js";

/** A Lua script run by its SHA, loaded into Redis on first use (and again after Redis restarts). */
export function redisScript(source: string) {
  const sha = createHash("sha1").update(source).digest("hex");
  return async (client: RedisClient, keys: string[], args: string[]): Promise<unknown> => {
    try {
      return await client.evalSha(sha, { keys, arguments: args });
    } catch (error) {
      if (!String((error as Error).message).startsWith("NOSCRIPT")) throw error;
      return client.eval(source, { keys, arguments: args });
    }
  };
}
