import { createClient } from "redis";
import type { Logger } from "../../logger.js";

const MAX_RECONNECT_DELAY_MS = 2_000;
/** Redis answers in well under a millisecond; a command taking longer than this counts as a failure. */
const COMMAND_TIMEOUT_MS = 250;

/**
 * A client that keeps reconnecting in the background when the connection
 * drops. Commands fail at once while it is down (no offline queue), so callers
 * notice instead of piling up.
 */
function createRedisClient(url: string) {
  return createClient({
    url,
    disableOfflineQueue: true,
    commandOptions: { timeout: COMMAND_TIMEOUT_MS },
    socket: {
      connectTimeout: 2_000,
      reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, MAX_RECONNECT_DELAY_MS),
    },
  });
}

/** A connected node-redis client. */
export type RedisClient = ReturnType<typeof createRedisClient>;

/** Connects to Redis, logging one line per outage rather than one per reconnect attempt. */
export async function connectRedis(url: string, logger: Logger): Promise<RedisClient> {
  const client = createRedisClient(url);
  let down = false;
  client.on("error", (error: Error) => {
    if (!down) logger.warn({ err: error }, "redis connection failed; retrying");
    down = true;
  });
  client.on("ready", () => {
    if (down) logger.info("redis connection restored");
    down = false;
  });
  await client.connect();
  return client;
}
