import { MongoClient } from "mongodb";
import type { Config } from "./config.js";
import type { Dependency } from "./health/readiness.js";
import type { Logger } from "./logger.js";
import type { KeyStore } from "./store/key-store.js";
import { MemoryKeyStore } from "./store/memory/memory-key-store.js";
import { MongoKeyStore } from "./store/mongo/mongo-key-store.js";
import { connectRedis, type RedisClient } from "./store/redis/redis-connection.js";

/** The adapters chosen by the configuration, and what readiness checks ask. */
export interface Stores {
  readonly keys: KeyStore;
  readonly redis?: RedisClient;
  readonly dependencies: readonly Dependency[];
  close(): Promise<void>;
}

/** How long a MongoDB call may wait for a server before it fails as UNAVAILABLE. */
const MONGODB_SELECTION_TIMEOUT_MS = 2_000;

/** MongoDB when MONGODB_URI is set, memory otherwise; Redis when REDIS_URL is set. */
export async function openStores(config: Config, logger: Logger): Promise<Stores> {
  const keys = config.mongodbUri
    ? await MongoKeyStore.open(
        new MongoClient(config.mongodbUri, {
          serverSelectionTimeoutMS: MONGODB_SELECTION_TIMEOUT_MS,
          appName: "keyward",
        }),
        config.mongodbDatabase,
      )
    : new MemoryKeyStore();
  const redis = config.redisUrl ? await connectRedis(config.redisUrl, logger) : undefined;
  const dependencies: Dependency[] = [];
  if (config.mongodbUri) dependencies.push({ name: "mongodb", ping: () => keys.ping() });
  if (redis) dependencies.push({ name: "redis", ping: async () => void (await redis.ping()) });
  return {
    keys,
    redis,
    dependencies,
    async close() {
      await Promise.allSettled([keys.close(), redis?.close()]);
    },
  };
}
