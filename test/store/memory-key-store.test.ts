import { MemoryKeyStore } from "../../src/store/memory/memory-key-store.js";
import { keyStoreContract } from "./key-store-contract.js";

keyStoreContract("memory", async () => ({
  store: new MemoryKeyStore(),
  enforcesUniqueness: true,
  cleanup: async () => {},
}));
