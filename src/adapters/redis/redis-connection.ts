import { readFileSync } from "node:fs";
import { createClient } from "redis";
import type { Logger } from "../../observability/logger.js";
import { scripts } from "./redis-scripts.js";

const MAX_RECONNECT_DELAY_MS = 2_000;
/** Redis answers in well under a millisecond; a command taking longer than this counts as a failure. */
const COMMAND_TIMEOUT_MS = 250;

/** How to reach Redis: a URL (`redis://` or `rediss://` for TLS, with `user:password@` for ACLs). */
export interface RedisOptions {
  readonly url: string;
  /** A PEM file of the CA that signed the server's certificate (rediss:// only); the system's CAs otherwise. */
  readonly caFile?: string | undefined;
}

/**
 * A client that keeps reconnecting in the background when the connection
 * drops. Commands fail at once while it is down (no offline queue), so callers
 * notice instead of piling up. ACL user and password come from the URL.
 */
function createRedisClient({ url, caFile }: RedisOptions) {
  const socket = {
    connectTimeout: 2_000,
    reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, MAX_RECONNECT_DELAY_MS),
  };
  const tls = url.startsWith("rediss:") ? { tls: true as const, ca: caFile && readFileSync(caFile) } : {};
  return createClient({
    url,
    disableOfflineQueue: true,
    commandOptions: { timeout: COMMAND_TIMEOUT_MS },
    scripts,
    socket: { ...socket, ...tls },
  });
}

/** A connected node-redis client. */
export type RedisClient = ReturnType<typeof createRedisClient>;

/**
 * A client that connects in the background and keeps reconnecting: Keyward
 * starts and verifies keys without rate limits while Redis is away (readiness
 * says so). Logs one line per outage rather than one per reconnect attempt.
 */
export function openRedis(options: RedisOptions, logger: Logger): RedisClient {
  const client = createRedisClient(options);
  let down = false;
  client.on("error", (error: Error) => {
    if (!down) logger.warn({ err: error }, "redis connection failed; retrying");
    down = true;
  });
  client.on("ready", () => {
    if (down) logger.info("redis connection restored");
    down = false;
  });
  client.connect().catch(() => {}); // failures are reported above and retried
  return client;
}

/** Resolves when the client is connected, or after `timeoutMs` regardless; answers whether it is connected. */
export async function whenReady(client: RedisClient, timeoutMs: number): Promise<boolean> {
  if (client.isReady) return true;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    new Promise((resolve) => client.once("ready", resolve)),
    new Promise((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  return client.isReady;
}

/** How long a close may wait for Redis to answer before the connection is dropped. */
const CLOSE_TIMEOUT_MS = 1_000;

/**
 * Closes the client gracefully, or drops its connection when Redis does not
 * answer in time (a black-holed network would otherwise hold a stop forever).
 */
export async function closeRedis(client: RedisClient): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const closed = client.close().then(
    () => true,
    () => false,
  );
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), CLOSE_TIMEOUT_MS);
  });
  const graceful = await Promise.race([closed, timedOut]);
  clearTimeout(timer);
  if (!graceful && client.isOpen) client.destroy();
}
