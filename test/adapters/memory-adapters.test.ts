import { MemoryAuditEvents } from "../../src/adapters/memory/memory-audit-events.js";
import { MemoryKeyStore } from "../../src/adapters/memory/memory-key-store.js";
import { MemoryKeyspaceRecords } from "../../src/adapters/memory/memory-keyspace-records.js";
import { auditStoreContract } from "./audit-events-contract.js";
import { creditLedgerContract } from "./credit-ledger-contract.js";
import { keyStoreContract } from "./key-store-contract.js";
import { keyspaceStoreContract } from "./keyspace-records-contract.js";

const nothingToClean = async () => {};

keyStoreContract("memory", async () => ({
  store: new MemoryKeyStore(),
  enforcesUniqueness: true,
  cleanup: nothingToClean,
}));
creditLedgerContract("memory", async () => ({
  store: new MemoryKeyStore(),
  enforcesUniqueness: true,
  cleanup: nothingToClean,
}));
keyspaceStoreContract("memory", async () => ({
  store: new MemoryKeyspaceRecords(),
  enforcesUniqueness: true,
  cleanup: nothingToClean,
}));
auditStoreContract("memory", async () => ({ store: new MemoryAuditEvents(), cleanup: nothingToClean }));
