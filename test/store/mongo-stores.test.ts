import { MongoAuditStore } from "../../src/store/mongo/mongo-audit-store.js";
import { MongoKeyStore } from "../../src/store/mongo/mongo-key-store.js";
import { MongoKeyspaceStore } from "../../src/store/mongo/mongo-keyspace-store.js";
import { openTestDatabase } from "../support/mongo.js";
import { auditStoreContract } from "./audit-store-contract.js";
import { keyStoreContract } from "./key-store-contract.js";
import { keyspaceStoreContract } from "./keyspace-store-contract.js";

// Against MONGODB_URI when set (every case runs), otherwise against the stand-in.
const adapter = process.env.MONGODB_URI ? "mongodb (MONGODB_URI)" : "mongodb (stand-in)";

keyStoreContract(adapter, async () => {
  const database = await openTestDatabase();
  return { store: await MongoKeyStore.open(database.db), enforcesUniqueness: database.real, cleanup: database.close };
});
keyspaceStoreContract(adapter, async () => {
  const database = await openTestDatabase();
  return {
    store: await MongoKeyspaceStore.open(database.db),
    enforcesUniqueness: database.real,
    cleanup: database.close,
  };
});
auditStoreContract(adapter, async () => {
  const database = await openTestDatabase();
  return { store: await MongoAuditStore.open(database.db), cleanup: database.close };
});
