import { readFileSync } from "node:fs";
import { createClient, createCluster, createSentinel } from "redis";
import type { Logger } from "../../observability/logger.js";
import { scripts } from "./redis-scripts.js";

const MAX_RECONNECT_DELAY_MS = 2_000;
/** Redis answers in well under a millisecond; a command taking longer than this counts as a failure. */
const COMMAND_TIMEOUT_MS = 250;

/** How Redis is deployed: one server, a Redis Cluster, or a master watched by Sentinel. */
export type RedisType = "single" | "cluster" | "sentinel";

/** How to reach Redis. */
export interface RedisOptions {
  /**
   * `redis://` or `rediss://` (TLS) URLs, `user:password@` for ACLs, comma-separated: one for a
   * single server; seed nodes of a cluster; the sentinels of a Sentinel set.
   */
  readonly url: string;
  readonly type?: RedisType | undefined;
  /** The name Sentinel knows the master by (sentinel only). */
  readonly sentinelMaster?: string | undefined;
  /** A PEM file of the CA that signed the server's certificate (rediss:// only); the system's CAs otherwise. */
  readonly caFile?: string | undefined;
}

/** The URLs of a comma-separated list, each trimmed. */
export function redisUrls(url: string): string[] {
  return url.split(",").map((part) => part.trim());
}

/**
 * What every connection shares: it keeps reconnecting in the background when
 * it drops, and commands fail at once while it is down (no offline queue), so
 * callers notice instead of piling up. ACL user and password come from the URL.
 */
function nodeOptions(url: string, caFile: string | undefined) {
  const { username, password } = new URL(url);
  const tls = url.startsWith("rediss:") ? { tls: true as const, ca: caFile && readFileSync(caFile) } : {};
  return {
    ...(username && { username: decodeURIComponent(username) }),
    ...(password && { password: decodeURIComponent(password) }),
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 2_000,
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, MAX_RECONNECT_DELAY_MS),
      ...tls,
    },
  };
}

function createSingleClient({ url, caFile }: RedisOptions) {
  return createClient({ url, commandOptions: { timeout: COMMAND_TIMEOUT_MS }, scripts, ...nodeOptions(url, caFile) });
}

const TOPOLOGY_REFRESH_MS = 1_000;

/** A cluster found from its seed nodes; every node is reached with the first URL's credentials and TLS. */
function createClusterClient({ url, caFile }: RedisOptions) {
  const urls = redisUrls(url);
  const defaults = nodeOptions(urls[0] as string, caFile);
  return createCluster({
    rootNodes: urls.map((seed) => ({ ...defaults, url: seed })),
    defaults,
    commandOptions: { timeout: COMMAND_TIMEOUT_MS },
    // While a node cannot be reached, ask the cluster every second whose slots it had (a replica took over).
    topologyRefreshOnReconnectionAttemptStrategy: TOPOLOGY_REFRESH_MS,
    scripts,
  });
}

/**
 * A master found through its sentinels, followed when they fail it over. The
 * URLs name the sentinels; their credentials and TLS are those of the master
 * and replicas too.
 */
function createSentinelClient({ url, caFile, sentinelMaster }: RedisOptions) {
  const urls = redisUrls(url);
  const options = nodeOptions(urls[0] as string, caFile);
  return createSentinel({
    name: sentinelMaster ?? "",
    sentinelRootNodes: urls.map((sentinel) => {
      const { hostname, port } = new URL(sentinel);
      return { host: hostname.replace(/^\[|\]$/g, ""), port: Number(port || 26379) };
    }),
    nodeClientOptions: options,
    sentinelClientOptions: { socket: options.socket },
    commandOptions: { timeout: COMMAND_TIMEOUT_MS },
    scripts,
  });
}

export type SingleClient = ReturnType<typeof createSingleClient>;
export type ClusterClient = ReturnType<typeof createClusterClient>;
export type SentinelClient = ReturnType<typeof createSentinelClient>;
/** A node-redis client of whichever kind the deployment needs. */
export type RedisClient = SingleClient | ClusterClient | SentinelClient;

function createRedisClient(options: RedisOptions): RedisClient {
  if (options.type === "cluster") return createClusterClient(options);
  if (options.type === "sentinel") return createSentinelClient(options);
  return createSingleClient(options);
}

/** Whether commands of different hash slots can share a script call or a MULTI (not on a cluster). */
export function isCluster(client: RedisClient): client is ClusterClient {
  return "masters" in client;
}

/**
 * A client that connects in the background and keeps reconnecting: Keyward
 * starts and verifies keys without rate limits while Redis is away (readiness
 * says so). Logs one line per outage rather than one per reconnect attempt.
 */
export function openRedis(options: RedisOptions, logger: Logger): RedisClient {
  const client = createRedisClient(options);
  let down = false;
  const failed = (error: unknown) => {
    if (!down) logger.warn({ err: error }, "redis connection failed; retrying");
    down = true;
  };
  client.on("error", failed);
  // A cluster reports each node's connection; one that fails is reached again or replaced by its replica.
  client.on("node-error", failed);
  const restored = () => {
    if (down) logger.info("redis connection restored");
    down = false;
  };
  client.on("ready", restored);
  client.on("node-ready", restored);
  connectInBackground(client);
  return client;
}

/**
 * Connects, retrying until it succeeds or the client is closed. A single
 * client retries by itself; a cluster or a sentinel set gives up when none of
 * its seeds answers, so that first discovery is retried here.
 */
export function connectInBackground(client: RedisClient): void {
  let attempt = 0;
  const connect = () => {
    (client.connect() as Promise<unknown>).catch(() => {
      if (client.isOpen || closing.has(client)) return;
      setTimeout(connect, Math.min(50 * 2 ** attempt++, MAX_RECONNECT_DELAY_MS)).unref();
    });
  };
  connect();
}

const closing = new WeakSet<RedisClient>();

/** Resolves when the client is connected, or after `timeoutMs` regardless; answers whether it is connected. */
export async function whenReady(client: RedisClient, timeoutMs: number): Promise<boolean> {
  // Elapsed time, not the time of day: a wait, which no clock Keyward decides by may shorten.
  const deadline = performance.now() + timeoutMs;
  while (!client.isReady && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  return client.isReady;
}

/** A second client like `client`, for a connection that subscribes (and can do nothing else). */
export function duplicateRedis(client: RedisClient): RedisClient {
  // On a cluster, only the node that carries the subscription needs a connection.
  return isCluster(client) ? client.duplicate({ minimizeConnections: true }) : (client.duplicate() as RedisClient);
}

/** How long a close may wait for Redis to answer before the connection is dropped. */
const CLOSE_TIMEOUT_MS = 1_000;

/**
 * Closes the client gracefully, or drops its connection when Redis does not
 * answer in time (a black-holed network would otherwise hold a stop forever).
 */
export async function closeRedis(client: RedisClient): Promise<void> {
  closing.add(client);
  let timer: NodeJS.Timeout | undefined;
  const closed = (client.close() as Promise<unknown>).then(
    () => true,
    () => false,
  );
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), CLOSE_TIMEOUT_MS);
  });
  const graceful = await Promise.race([closed, timedOut]);
  clearTimeout(timer);
  if (!graceful && client.isOpen) await client.destroy();
}
