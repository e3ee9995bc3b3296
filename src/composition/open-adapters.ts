import { randomBytes } from "node:crypto";
import { MongoClient } from "mongodb";
import { withFallback } from "../adapters/fallback-rate-limiter.js";
import { MemoryAuditEvents } from "../adapters/memory/memory-audit-events.js";
import { MemoryKeyStore } from "../adapters/memory/memory-key-store.js";
import { MemoryKeyspaceRecords } from "../adapters/memory/memory-keyspace-records.js";
import { MemoryRateLimiter } from "../adapters/memory/memory-rate-limiter.js";
import { MongoAuditEvents } from "../adapters/mongo/mongo-audit-events.js";
import { mongoCall } from "../adapters/mongo/mongo-errors.js";
import { MongoKeyStore } from "../adapters/mongo/mongo-key-store.js";
import { MongoKeyspaceRecords } from "../adapters/mongo/mongo-keyspace-records.js";
import { closeRedis, openRedis, whenReady } from "../adapters/redis/redis-connection.js";
import { RedisInvalidationBus } from "../adapters/redis/redis-invalidation-bus.js";
import { RedisKeyCache } from "../adapters/redis/redis-key-cache.js";
import { RedisRateLimiter } from "../adapters/redis/redis-rate-limiter.js";
import { createRejectionReporter } from "../adapters/redis/rejected-values.js";
import { createValueSigner, type SigningSecrets } from "../adapters/redis/value-signer.js";
import { propagateChanges } from "../cache/propagate-changes.js";
import { VerificationCache } from "../cache/verification-cache.js";
import type { Clock } from "../keys/clock.js";
import type { Logger } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";
import type { Dependency } from "../observability/readiness.js";
import type { AuditEvents, AuditRetention } from "../ports/audit-events.js";
import type { KeyStore } from "../ports/key-store.js";
import type { KeyspaceRecords } from "../ports/keyspace-records.js";
import type { RateLimiter } from "../ports/rate-limiter.js";
import type { Config } from "./config.js";

/** The adapters chosen by the configuration, and what readiness checks ask. */
export interface Adapters {
  /** Keys, their credits and usage; lookups by hash through the verification cache, which hears of every change. */
  readonly keys: KeyStore;
  /** The verification cache itself: its version tells what was derived from cached keys whether it is current. */
  readonly cache: Pick<VerificationCache, "version">;
  readonly keyspaces: KeyspaceRecords;
  readonly audit: AuditEvents;
  readonly limiter: RateLimiter;
  readonly dependencies: readonly Dependency[];
  close(): Promise<void>;
}

/** How long a MongoDB call may wait for a server before it fails as UNAVAILABLE. */
const MONGODB_SELECTION_TIMEOUT_MS = 2_000;
/** How long Redis keeps a "no such key" and the marker a change leaves; key records live the cache TTL. */
const SHARED_CACHE_TTLS = { absentMs: 10_000, tombstoneMs: 10_000 };
/** How long start-up waits for Redis before going on without it. */
const REDIS_START_WAIT_MS = 2_000;
/** How long this process remembers that no key has a hash. */
const LOCAL_ABSENT_TTL_MS = 10_000;

/** MongoDB when MONGODB_URI is set, memory otherwise; Redis (cache, invalidations, rate limits) when REDIS_URL is set. */
export async function openAdapters(config: Config, logger: Logger, metrics: Metrics, clock: Clock): Promise<Adapters> {
  const records = config.mongodbUri
    ? await openMongo(config.mongodbUri, config.mongodbDatabase, config.audit, logger)
    : openMemory(config.audit);
  const local = { ...config.cache, absentTtlMs: LOCAL_ABSENT_TTL_MS };
  if (config.cache.maxEntries !== undefined) {
    logger.warn(
      "KEYWARD_CACHE_MAX_ENTRIES is deprecated: the cache is bounded in bytes by KEYWARD_CACHE_MAX_BYTES; the number of entries is still bounded as set",
    );
  }
  if (!config.redisUrl) {
    const cache = new VerificationCache(records.keys, { settings: local, metrics, clock });
    metrics.watchCacheBytes(() => cache.localBytes);
    return { ...records, keys: propagateChanges(records.keys, cache), cache, limiter: new MemoryRateLimiter() };
  }
  const redis = openRedis(
    {
      url: config.redisUrl,
      type: config.redisType,
      sentinelMaster: config.redisSentinelMaster,
      caFile: config.redisCaFile,
    },
    logger,
  );
  const signer = createValueSigner(redisSecrets(config, logger));
  const rejected = createRejectionReporter(logger, (kind) => metrics.redisRejected(kind), clock);
  const bus = RedisInvalidationBus.open(redis, logger, signer, rejected);
  // Give Redis a moment, so that a normal start begins with the shared cache and invalidations in
  // place; past it, Keyward starts without them and takes them up when Redis answers.
  if (await whenReady(redis, REDIS_START_WAIT_MS)) await bus.whenSubscribed(REDIS_START_WAIT_MS);
  else logger.warn({ waitedMs: REDIS_START_WAIT_MS }, "starting without Redis; it is retried in the background");
  const cache = new VerificationCache(records.keys, {
    settings: local,
    shared: new RedisKeyCache(redis, { ...SHARED_CACHE_TTLS, recordMs: config.cache.ttlMs }, signer, rejected),
    bus,
    metrics,
    clock,
  });
  metrics.watchCacheBytes(() => cache.localBytes);
  return {
    ...records,
    keys: propagateChanges(records.keys, cache),
    cache,
    limiter: withFallback(new RedisRateLimiter(redis), new MemoryRateLimiter(), config.ratelimitFallback, logger),
    dependencies: [...records.dependencies, { name: "redis", ping: async () => void (await redis.ping()) }],
    async close() {
      cache.close();
      await Promise.allSettled([records.close(), bus.close(), closeRedis(redis)]);
    },
  };
}

/**
 * The secrets Redis values are signed with. Outside production they may be
 * unset: then this process makes its own, and no other replica can read what
 * it writes or hear its changes (config refuses that in production).
 */
function redisSecrets(config: Config, logger: Logger): SigningSecrets {
  if (config.redisSecrets) return config.redisSecrets;
  logger.warn(
    "KEYWARD_REDIS_SECRET is not set: Redis values are signed with a secret made for this process alone, so replicas cannot share cached keys or hear each other's changes",
  );
  return { current: randomBytes(32).toString("base64url") };
}

type RecordStores = Pick<Adapters, "keyspaces" | "audit" | "dependencies" | "close"> & { readonly keys: KeyStore };

function openMemory(retention: AuditRetention): RecordStores {
  return {
    keys: new MemoryKeyStore(),
    keyspaces: new MemoryKeyspaceRecords(),
    audit: new MemoryAuditEvents(retention),
    dependencies: [],
    close: async () => {},
  };
}

async function openMongo(
  uri: string,
  database: string,
  retention: AuditRetention,
  logger: Logger,
): Promise<RecordStores> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: MONGODB_SELECTION_TIMEOUT_MS, appName: "keyward" });
  const db = client.db(database);
  const [keys, keyspaces, audit] = await Promise.all([
    MongoKeyStore.open(db, logger),
    MongoKeyspaceRecords.open(db),
    MongoAuditEvents.open(db, retention),
  ]);
  return {
    keys,
    keyspaces,
    audit,
    dependencies: [{ name: "mongodb", ping: async () => void (await mongoCall(() => db.command({ ping: 1 }))) }],
    close: () => client.close(),
  };
}
