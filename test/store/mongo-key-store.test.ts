import { MongoClient } from "mongodb";
import { MongoKeyStore } from "../../src/store/mongo/mongo-key-store.js";
import { startTestMongo } from "../support/mongo.js";
import { keyStoreContract } from "./key-store-contract.js";

// Runs against MONGODB_URI when set (every case), otherwise against the stand-in.
keyStoreContract(process.env.MONGODB_URI ? "mongodb (MONGODB_URI)" : "mongodb (stand-in)", async () => {
  const mongo = await startTestMongo();
  const store = await MongoKeyStore.open(
    new MongoClient(mongo.uri, { serverSelectionTimeoutMS: 2_000 }),
    mongo.database,
  );
  return {
    store,
    enforcesUniqueness: mongo.real,
    async cleanup() {
      await store.close();
      await mongo.stop();
    },
  };
});
