import type { Collection } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toDocument } from "../../src/adapters/mongo/key-document.js";
import { MongoKeyStore } from "../../src/adapters/mongo/mongo-key-store.js";
import type { KeyRecord } from "../../src/keys/key-record.js";
import { createLogger } from "../../src/observability/logger.js";
import { CorruptRecordError } from "../../src/ports/corrupt-record-error.js";
import { openTestDatabase, type TestDatabase } from "../support/mongo.js";
import { sampleRecord } from "../support/records.js";

const adapter = process.env.MONGODB_URI ? "mongodb (MONGODB_URI)" : "mongodb (stand-in)";

/**
 * Damage a document can carry, written straight into the collection: the first
 * is what `$unset: { "permissions.0": "" }` (issue 9 item 10) leaves behind.
 */
const damage: [string, (document: Record<string, unknown>) => Record<string, unknown>][] = [
  ["a null inside permissions", (document) => ({ ...document, permissions: [null, "documents.read"] })],
  [
    "a rate limit without its limit",
    (document) => ({ ...document, ratelimits: [{ name: "requests", limit: null, durationMs: 1000 }] }),
  ],
  ["a refill without its amount", (document) => ({ ...document, refill: { interval: "daily", refillDay: 0 } })],
  ["meta that is not JSON", (document) => ({ ...document, meta: "{not json" })],
  ["a creation time that is text", (document) => ({ ...document, createdAt: "yesterday" })],
  ["no keyspace", ({ keyspaceId, ...document }) => document],
];

describe(`${adapter}: issue 9 item 10: a key document that does not decode is an error for that record alone`, () => {
  let database: TestDatabase;
  let store: MongoKeyStore;
  let collection: Collection;
  const logs: string[] = [];
  /** Healthy and damaged records in key id order, alternating: healthy first and last. */
  const healthy: KeyRecord[] = [];
  const corrupt: KeyRecord[] = [];

  beforeAll(async () => {
    database = await openTestDatabase();
    const logger = createLogger("debug", { write: (line: string) => void logs.push(line) });
    store = await MongoKeyStore.open(database.db, logger);
    collection = database.db.collection("keys");
    for (const [, spoil] of damage) {
      const good = sampleRecord({ keyspaceId: "alpha" });
      const bad = sampleRecord({ keyspaceId: "alpha", permissions: ["documents.read"] });
      await store.insert(good);
      await collection.insertOne(spoil(toDocument(bad) as unknown as Record<string, unknown>));
      healthy.push(good);
      corrupt.push(bad);
    }
    const last = sampleRecord({ keyspaceId: "alpha" });
    await store.insert(last);
    healthy.push(last);
  });
  afterAll(async () => {
    await database.close();
  });

  it("issue 9 item 10: list skips every damaged document and returns its healthy neighbours", async () => {
    const listed = await store.list({ keyspaces: { in: ["alpha"] }, limit: 100 });
    expect(listed.map((record) => record.keyId)).toEqual(healthy.map((record) => record.keyId));
  });

  it("issue 9 item 10: a page stays full past damaged documents, so paging does not end early", async () => {
    const ids: string[] = [];
    let afterKeyId: string | undefined;
    for (;;) {
      const page = await store.list({ keyspaces: { in: ["alpha"] }, afterKeyId, limit: 2 });
      ids.push(...page.map((record) => record.keyId));
      if (page.length < 2) break;
      expect(page).toHaveLength(2);
      afterKeyId = page.at(-1)?.keyId;
    }
    expect(ids).toEqual(healthy.map((record) => record.keyId));
  });

  it.each(damage.map(([name], index) => [name, index] as const))(
    "issue 9 item 10: get and findByHash of a document with %s fail for that record alone",
    async (_, index) => {
      const bad = corrupt[index] as KeyRecord;
      const good = healthy[index] as KeyRecord;
      const byId = await store.get(bad.keyId).catch((error: unknown) => error);
      expect(byId).toBeInstanceOf(CorruptRecordError);
      expect(byId).toMatchObject({ keyId: bad.keyId });
      expect((byId as Error).message).toContain(bad.keyId);
      expect((byId as Error).message).not.toContain(bad.hash);
      await expect(store.findByHash(bad.hash)).rejects.toBeInstanceOf(CorruptRecordError);
      expect(await store.get(good.keyId)).toEqual(good);
      expect(await store.findByHash(good.hash)).toEqual(good);
    },
  );

  it("issue 9 item 10: reads back every shape Keyward writes", async () => {
    const full = sampleRecord({
      keyspaceId: "beta",
      expiresAt: new Date(Date.UTC(2030, 0, 1)),
      meta: { tier: "gold", nested: { list: [1, "two", null] } },
      scopes: ["s"],
      roles: ["r"],
      permissions: ["p"],
      remaining: 1_000_000_000_000,
      refill: { interval: "monthly", amount: 10, refillDay: 31, lastRefilledAt: new Date(Date.UTC(2026, 0, 1)) },
      // A Duration of 1 s and 500 ns.
      ratelimits: [{ name: "requests", limit: 5, durationMs: 1000.0005 }],
      retiredSecrets: [{ hash: "retired", validUntil: new Date(Date.UTC(2030, 0, 1)) }],
      lastUsedAt: new Date(Date.UTC(2026, 0, 2)),
      usage: { valid: 3, rateLimited: 1 },
      revoked: true,
      revokedAt: new Date(Date.UTC(2026, 0, 3)),
      revocationReason: "done",
    });
    await store.insert(full);
    expect(await store.get(full.keyId)).toEqual(full);
    expect(await store.list({ keyspaces: { in: ["beta"] }, limit: 10 })).toEqual([full]);
  });

  it("issue 9 item 10: the keyspace of a damaged record is known when it can be read, for the existence rule", async () => {
    const readable = await store.get((corrupt[0] as KeyRecord).keyId).catch((error: unknown) => error);
    expect(readable).toBeInstanceOf(CorruptRecordError);
    expect(readable).toMatchObject({ keyspaceId: "alpha" });
    const unreadable = await store.get((corrupt.at(-1) as KeyRecord).keyId).catch((error: unknown) => error);
    expect(unreadable).toBeInstanceOf(CorruptRecordError);
    expect((unreadable as CorruptRecordError).keyspaceId).toBeUndefined();
  });

  it("issue 9 item 10: each damaged record is logged by key id, never with its contents", async () => {
    // Unfiltered: the filter on keyspace alpha never meets the document without a keyspace.
    const listed = await store.list({ limit: 100 });
    expect(listed.filter((record) => record.keyspaceId === "alpha")).toEqual(healthy);
    const warnings = logs.filter((line) => line.includes("cannot be read"));
    for (const bad of corrupt) {
      expect(warnings.some((line) => line.includes(bad.keyId))).toBe(true);
    }
    for (const line of logs) {
      for (const bad of corrupt) {
        expect(line).not.toContain(bad.hash);
        expect(line).not.toContain(bad.name);
      }
    }
  });
});
