import { describe, expect, it } from "vitest";
import { MongoAuditEvents } from "../../src/adapters/mongo/mongo-audit-events.js";
import { MongoKeyStore } from "../../src/adapters/mongo/mongo-key-store.js";
import { MongoKeyspaceRecords } from "../../src/adapters/mongo/mongo-keyspace-records.js";
import { createLogger } from "../../src/observability/logger.js";
import { openTestDatabase } from "../support/mongo.js";
import { auditStoreContract } from "./audit-events-contract.js";
import { creditLedgerContract } from "./credit-ledger-contract.js";
import { keyStoreContract } from "./key-store-contract.js";
import { keyspaceStoreContract } from "./keyspace-records-contract.js";

// Against MONGODB_URI when set (every case runs), otherwise against the stand-in.
const adapter = process.env.MONGODB_URI ? "mongodb (MONGODB_URI)" : "mongodb (stand-in)";

keyStoreContract(adapter, async () => {
  const database = await openTestDatabase();
  const store = await MongoKeyStore.open(database.db, createLogger("silent"));
  return { store, enforcesUniqueness: database.real, cleanup: database.close };
});
creditLedgerContract(adapter, async () => {
  const database = await openTestDatabase();
  const store = await MongoKeyStore.open(database.db, createLogger("silent"));
  return { store, enforcesUniqueness: database.real, cleanup: database.close };
});
keyspaceStoreContract(adapter, async () => {
  const database = await openTestDatabase();
  return {
    store: await MongoKeyspaceRecords.open(database.db),
    enforcesUniqueness: database.real,
    cleanup: database.close,
  };
});
auditStoreContract(adapter, async () => {
  const database = await openTestDatabase();
  return { store: await MongoAuditEvents.open(database.db), cleanup: database.close };
});

describe(`${adapter}: indexes made at start-up`, () => {
  it("are unique on every id and on the hash, and cover lookups by retired hash and every listing", async () => {
    const database = await openTestDatabase();
    try {
      await MongoKeyStore.open(database.db, createLogger("silent"));
      await MongoKeyspaceRecords.open(database.db);
      await MongoAuditEvents.open(database.db);
      const indexes = async (collection: string) =>
        (await database.db.collection(collection).listIndexes().toArray()).map(({ name, key, unique }) => ({
          name,
          key,
          unique: unique === true,
        }));
      // The stand-in keeps these definitions but does not enforce uniqueness; the contract's
      // duplicate cases, which need a real server, check that.
      expect(await indexes("keys")).toEqual(
        expect.arrayContaining([
          { name: "keyId_unique", key: { keyId: 1 }, unique: true },
          { name: "hash_unique", key: { hash: 1 }, unique: true },
          { name: "retired_hash", key: { "retiredSecrets.hash": 1 }, unique: false },
          { name: "keyspace_list", key: { keyspaceId: 1, keyId: 1 }, unique: false },
          { name: "owner_list", key: { ownerId: 1, keyId: 1 }, unique: false },
          { name: "org_list", key: { orgId: 1, keyId: 1 }, unique: false },
        ]),
      );
      expect(await indexes("keyspaces")).toEqual(
        expect.arrayContaining([
          { name: "keyspaceId_unique", key: { keyspaceId: 1 }, unique: true },
          { name: "org_list", key: { orgId: 1, keyspaceId: 1 }, unique: false },
        ]),
      );
      expect(await indexes("audit_events")).toEqual(
        expect.arrayContaining([
          { name: "eventId_unique", key: { eventId: -1 }, unique: true },
          { name: "keyspace_list", key: { keyspaceId: 1, eventId: -1 }, unique: false },
          { name: "actor_list", key: { actorKeyId: 1, eventId: -1 }, unique: false },
          { name: "key_list", key: { keyId: 1, eventId: -1 }, unique: false },
        ]),
      );
    } finally {
      await database.close();
    }
  });
});
