import { MongoClient } from "mongodb";
import type { Config } from "./config.js";
import type { Dependency } from "./health/readiness.js";
import type { Logger } from "./logger.js";
import type { AuditStore } from "./store/audit-store.js";
import type { KeyStore } from "./store/key-store.js";
import type { KeyspaceStore } from "./store/keyspace-store.js";
import { MemoryAuditStore } from "./store/memory/memory-audit-store.js";
import { MemoryKeyStore } from "./store/memory/memory-key-store.js";
import { MemoryKeyspaceStore } from "./store/memory/memory-keyspace-store.js";
import { MongoAuditStore } from "./store/mongo/mongo-audit-store.js";
import { mongoCall } from "./store/mongo/mongo-errors.js";
import { MongoKeyStore } from "./store/mongo/mongo-key-store.js";
import { MongoKeyspaceStore } from "./store/mongo/mongo-keyspace-store.js";
import { connectRedis, type RedisClient } from "./store/redis/redis-connection.js";

/** The adapters chosen by the configuration, and what readiness checks ask. */
export interface Stores {
  readonly keys: KeyStore;
  readonly keyspaces: KeyspaceStore;
  readonly audit: AuditStore;
  readonly redis?: RedisClient;
  readonly dependencies: readonly Dependency[];
  close(): Promise<void>;
}

/** How long a MongoDB call may wait for a server before it fails as UNAVAILABLE. */
const MONGODB_SELECTION_TIMEOUT_MS = 2_000;

/** MongoDB when MONGODB_URI is set, memory otherwise; Redis when REDIS_URL is set. */
export async function openStores(config: Config, logger: Logger): Promise<Stores> {
  const records = config.mongodbUri ? await openMongo(config.mongodbUri, config.mongodbDatabase) : openMemory();
  const redis = config.redisUrl ? await connectRedis(config.redisUrl, logger) : undefined;
  const dependencies = [...records.dependencies];
  if (redis) dependencies.push({ name: "redis", ping: async () => void (await redis.ping()) });
  return {
    ...records,
    redis,
    dependencies,
    async close() {
      await Promise.allSettled([records.close(), redis?.close()]);
    },
  };
}

type RecordStores = Pick<Stores, "keys" | "keyspaces" | "audit" | "dependencies" | "close">;

function openMemory(): RecordStores {
  return {
    keys: new MemoryKeyStore(),
    keyspaces: new MemoryKeyspaceStore(),
    audit: new MemoryAuditStore(),
    dependencies: [],
    close: async () => {},
  };
}

async function openMongo(uri: string, database: string): Promise<RecordStores> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: MONGODB_SELECTION_TIMEOUT_MS, appName: "keyward" });
  const db = client.db(database);
  const [keys, keyspaces, audit] = await Promise.all([
    MongoKeyStore.open(db),
    MongoKeyspaceStore.open(db),
    MongoAuditStore.open(db),
  ]);
  return {
    keys,
    keyspaces,
    audit,
    dependencies: [{ name: "mongodb", ping: async () => void (await mongoCall(() => db.command({ ping: 1 }))) }],
    close: () => client.close(),
  };
}
