import { randomBytes } from "node:crypto";
import { type Db, MongoClient } from "mongodb";

/** A MongoDB to test against, and what it can be trusted with. */
export interface TestMongo {
  readonly uri: string;
  /** A database name no other test uses. */
  readonly database: string;
  /** False on the stand-in: cases that need a real server are skipped. */
  readonly real: boolean;
  /** Stops the stand-in, or drops the database on a real server. */
  stop(): Promise<void>;
}

/** The stand-in's gaps, named in the message of every case they skip. */
export const NEEDS_REAL_MONGODB = "needs a real MongoDB (set MONGODB_URI): the stand-in ignores unique indexes";

/**
 * A real MongoDB when MONGODB_URI is set (every case runs), otherwise the
 * in-process stand-in from test/mongo-standin.
 */
export async function startTestMongo(): Promise<TestMongo> {
  const database = `keyward_test_${randomBytes(4).toString("hex")}`;
  const realUri = process.env.MONGODB_URI;
  if (realUri) {
    return {
      uri: realUri,
      database,
      real: true,
      async stop() {
        const client = new MongoClient(realUri);
        await client.db(database).dropDatabase();
        await client.close();
      },
    };
  }
  const { startMongoStandin } = await import("../mongo-standin/index.mjs");
  const standin = await startMongoStandin();
  return { uri: standin.uri, database, real: false, stop: () => standin.stop() };
}

/** A fresh database on the test MongoDB, opened with the official driver. */
export interface TestDatabase {
  readonly db: Db;
  readonly real: boolean;
  close(): Promise<void>;
}

export async function openTestDatabase(): Promise<TestDatabase> {
  const mongo = await startTestMongo();
  const client = new MongoClient(mongo.uri, { serverSelectionTimeoutMS: 2_000 });
  return {
    db: client.db(mongo.database),
    real: mongo.real,
    async close() {
      await client.close();
      await mongo.stop();
    },
  };
}
