import { MemoryAuditStore } from "../../src/store/memory/memory-audit-store.js";
import { MemoryKeyStore } from "../../src/store/memory/memory-key-store.js";
import { MemoryKeyspaceStore } from "../../src/store/memory/memory-keyspace-store.js";
import { auditStoreContract } from "./audit-store-contract.js";
import { keyStoreContract } from "./key-store-contract.js";
import { keyspaceStoreContract } from "./keyspace-store-contract.js";

const nothingToClean = async () => {};

keyStoreContract("memory", async () => ({
  store: new MemoryKeyStore(),
  enforcesUniqueness: true,
  cleanup: nothingToClean,
}));
keyspaceStoreContract("memory", async () => ({
  store: new MemoryKeyspaceStore(),
  enforcesUniqueness: true,
  cleanup: nothingToClean,
}));
auditStoreContract("memory", async () => ({ store: new MemoryAuditStore(), cleanup: nothingToClean }));
