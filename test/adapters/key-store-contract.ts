import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KeyStore } from "../../src/ports/key-store.js";
import { DuplicateRecordError } from "../../src/ports/store-errors.js";
import { NEEDS_REAL_MONGODB } from "../support/mongo.js";
import { sampleRecord } from "../support/records.js";

/** An adapter under test, and whether it honours unique indexes (the stand-in does not). */
export interface StoreUnderTest {
  readonly store: KeyStore;
  readonly enforcesUniqueness: boolean;
  cleanup(): Promise<void>;
}

/**
 * The behaviour every KeyStore adapter must show. Each adapter's test file
 * calls this with a factory for a fresh, empty store.
 */
export function keyStoreContract(adapter: string, open: () => Promise<StoreUnderTest>): void {
  describe(`KeyStore contract: ${adapter}`, () => {
    let subject: StoreUnderTest;
    let store: KeyStore;
    beforeAll(async () => {
      subject = await open();
      store = subject.store;
    });
    afterAll(async () => {
      await subject.cleanup();
    });

    it("returns a key exactly as it was inserted", async () => {
      const record = sampleRecord({
        description: "with every optional field",
        expiresAt: new Date("2030-01-01T00:00:00.123Z"),
        lastUsedAt: new Date("2026-02-03T04:05:06.789Z"),
        meta: { plan: "pro", "dotted.name": 1, $dollar: [true, null, { nested: "yes" }] },
        scopes: ["read", "write"],
        roles: ["admin"],
        permissions: ["documents.read"],
        remaining: 1_000_000_000_000,
        refill: { interval: "monthly", amount: 100, refillDay: 15, lastRefilledAt: new Date("2026-01-15T00:00:00Z") },
        ratelimits: [{ name: "requests", limit: 10, durationMs: 60_000 }],
        retiredSecrets: [{ hash: randomBytes(32).toString("base64url"), validUntil: new Date("2026-06-01T00:00:00Z") }],
      });
      await store.insert(record);
      expect(await store.get(record.keyId)).toEqual(record);
    });

    it("leaves optional fields out rather than inventing values", async () => {
      const record = sampleRecord();
      await store.insert(record);
      const stored = await store.get(record.keyId);
      expect(stored).toEqual(record);
      for (const field of ["expiresAt", "meta", "remaining", "refill", "lastUsedAt", "revokedAt"] as const) {
        expect(stored?.[field]).toBeUndefined();
      }
    });

    it("answers undefined for an unknown key id or hash", async () => {
      expect(await store.get("key_01UNKNOWN0000000000000000")).toBeUndefined();
      expect(await store.findByHash(randomBytes(32).toString("base64url"))).toBeUndefined();
    });

    it("finds a key by its current secret's hash and by a retired secret's hash", async () => {
      const retired = randomBytes(32).toString("base64url");
      const record = sampleRecord({
        retiredSecrets: [{ hash: retired, validUntil: new Date("2026-06-01T00:00:00Z") }],
      });
      await store.insert(record);
      expect((await store.findByHash(record.hash))?.keyId).toBe(record.keyId);
      expect((await store.findByHash(retired))?.keyId).toBe(record.keyId);
    });

    it("lists keys in id order, filtered, a page at a time", async () => {
      const keyspaceId = `ks-${randomBytes(4).toString("hex")}`;
      const records = [
        sampleRecord({ keyspaceId, ownerId: "alice", orgId: "acme" }),
        sampleRecord({ keyspaceId, ownerId: "bob", orgId: "acme" }),
        sampleRecord({ keyspaceId, ownerId: "alice", orgId: "globex" }),
        sampleRecord({ keyspaceId, ownerId: "alice", orgId: "acme" }),
      ];
      for (const record of [...records].reverse()) await store.insert(record);
      const ids = (list: { keyId: string }[]) => list.map((record) => record.keyId);

      expect(ids(await store.list({ keyspaces: { in: [keyspaceId] }, limit: 10 }))).toEqual(ids(records));
      expect(ids(await store.list({ keyspaces: { in: [keyspaceId] }, ownerId: "alice", limit: 10 }))).toEqual(
        ids([records[0], records[2], records[3]] as never),
      );
      expect(
        ids(await store.list({ keyspaces: { in: [keyspaceId] }, ownerId: "alice", orgId: "acme", limit: 10 })),
      ).toEqual(ids([records[0], records[3]] as never));
      const firstPage = await store.list({ keyspaces: { in: [keyspaceId] }, limit: 2 });
      expect(ids(firstPage)).toEqual(ids(records.slice(0, 2)));
      const secondPage = await store.list({
        keyspaces: { in: [keyspaceId] },
        afterKeyId: firstPage[1]?.keyId,
        limit: 2,
      });
      expect(ids(secondPage)).toEqual(ids(records.slice(2)));
      expect(await store.list({ keyspaces: { in: ["no-such-keyspace"] }, limit: 10 })).toEqual([]);
    });

    it("keeps keyspaces a filter excludes out of a listing", async () => {
      const [kept, hidden] = [
        `ks-kept-${randomBytes(3).toString("hex")}`,
        `ks-hidden-${randomBytes(3).toString("hex")}`,
      ];
      const ownerId = `owner-${kept}`;
      await store.insert(sampleRecord({ keyspaceId: kept, ownerId }));
      await store.insert(sampleRecord({ keyspaceId: hidden, ownerId }));
      const listed = await store.list({ ownerId, keyspaces: { notIn: [hidden] }, limit: 10 });
      expect(listed.map((record) => record.keyspaceId)).toEqual([kept]);
      expect(await store.list({ ownerId, keyspaces: { in: [kept, hidden], notIn: [kept] }, limit: 10 })).toHaveLength(
        1,
      );
    });

    it("updates only the given fields, clears those given as undefined, and returns the result", async () => {
      const record = sampleRecord({ expiresAt: new Date("2030-01-01T00:00:00Z"), remaining: 5, meta: { a: 1 } });
      await store.insert(record);
      const updatedAt = new Date("2026-03-01T00:00:00Z");
      const updated = await store.update(record.keyId, {
        name: "renamed",
        expiresAt: undefined,
        meta: { b: [2] },
        updatedAt,
      });
      const expected = { ...record, name: "renamed", meta: { b: [2] }, updatedAt };
      delete expected.expiresAt;
      expect(updated).toEqual(expected);
      expect(await store.get(record.keyId)).toEqual(expected);
    });

    it("answers undefined when updating an unknown key, and creates nothing", async () => {
      const keyId = "key_01NOSUCHKEY000000000000000";
      expect(await store.update(keyId, { name: "x" })).toBeUndefined();
      expect(await store.get(keyId)).toBeUndefined();
    });

    it("finds a key by its new hash after the secret changes, and no longer by the old one", async () => {
      const record = sampleRecord();
      await store.insert(record);
      const hash = randomBytes(32).toString("base64url");
      await store.update(record.keyId, { hash });
      expect((await store.findByHash(hash))?.keyId).toBe(record.keyId);
      expect(await store.findByHash(record.hash)).toBeUndefined();
    });

    it("issue 9 item 3: refuses a negative, fractional or non-numeric cost and spends nothing", async () => {
      const record = sampleRecord({ remaining: 10 });
      await store.insert(record);
      for (const cost of [-1, -1_000_000_000_000, 0.5, Number.NaN]) {
        await expect(store.spendCredits(record.keyId, cost)).rejects.toThrow(RangeError);
      }
      expect((await store.get(record.keyId))?.remaining).toBe(10);
    });

    it("spends credits atomically and never below zero", async () => {
      const record = sampleRecord({ remaining: 20 });
      await store.insert(record);
      const results = await Promise.all(Array.from({ length: 50 }, () => store.spendCredits(record.keyId, 1)));
      const spent = results.filter((result) => result?.spent);
      expect(spent).toHaveLength(20);
      expect(new Set(spent.map((result) => result?.remaining)).size).toBe(20);
      expect(results.filter((result) => result?.spent === false)).toEqual(
        Array(30).fill({ spent: false, remaining: 0 }),
      );
      expect((await store.get(record.keyId))?.remaining).toBe(0);
    });

    it("refuses to spend more credits than are left, takes nothing, and says how many there are", async () => {
      const record = sampleRecord({ remaining: 3 });
      await store.insert(record);
      expect(await store.spendCredits(record.keyId, 5)).toEqual({ spent: false, remaining: 3 });
      expect(await store.spendCredits(record.keyId, 3)).toEqual({ spent: true, remaining: 0 });
      expect((await store.get(record.keyId))?.remaining).toBe(0);
    });

    it("does not spend credits of keys without a credit limit, or of no key", async () => {
      const record = sampleRecord();
      await store.insert(record);
      expect(await store.spendCredits(record.keyId, 1)).toBeUndefined();
      expect(await store.spendCredits("key_01NOSUCHKEY000000000000000", 1)).toBeUndefined();
      expect(await store.get(record.keyId)).toEqual(record);
    });

    it("refills once per period, whoever asks, and only keys with a refill", async () => {
      const lastRefilledAt = new Date("2026-03-01T00:00:00Z");
      const record = sampleRecord({
        remaining: 2,
        refill: { interval: "daily", amount: 100, refillDay: 0, lastRefilledAt },
      });
      await store.insert(record);
      const periodStart = new Date("2026-03-02T00:00:00Z");
      const now = new Date("2026-03-02T08:00:00Z");
      const attempts = await Promise.all(
        [1, 2, 3, 4].map(() => store.refillCredits(record.keyId, 100, periodStart, now)),
      );
      expect(attempts.filter(Boolean)).toHaveLength(1);
      const refilled = await store.get(record.keyId);
      expect(refilled?.remaining).toBe(100);
      expect(refilled?.refill?.lastRefilledAt).toEqual(now);
      expect(await store.refillCredits(record.keyId, 100, periodStart, now)).toBe(false);

      const plain = sampleRecord({ remaining: 2 });
      await store.insert(plain);
      expect(await store.refillCredits(plain.keyId, 100, periodStart, now)).toBe(false);
      expect((await store.get(plain.keyId))?.remaining).toBe(2);
    });

    it("adds and sets credits of keys with a credit limit only", async () => {
      const record = sampleRecord({ remaining: 5 });
      await store.insert(record);
      expect(await store.changeCredits(record.keyId, { add: 10 })).toBe(15);
      expect(await store.changeCredits(record.keyId, { set: 3 })).toBe(3);
      expect((await store.get(record.keyId))?.remaining).toBe(3);
      const unlimited = sampleRecord();
      await store.insert(unlimited);
      expect(await store.changeCredits(unlimited.keyId, { set: 3 })).toBeUndefined();
      expect((await store.get(unlimited.keyId))?.remaining).toBeUndefined();
    });

    it("adds usage counts in batches and only moves last_used_at forward", async () => {
      const [a, b] = [sampleRecord(), sampleRecord({ lastUsedAt: new Date("2026-05-01T00:00:00Z") })];
      await store.insert(a);
      await store.insert(b);
      await store.recordUsage([
        {
          keyId: a.keyId,
          batchId: "batch-a1",
          counts: { valid: 3, rateLimited: 1 },
          lastUsedAt: new Date("2026-04-01T00:00:00Z"),
        },
        { keyId: b.keyId, batchId: "batch-a1", counts: { revoked: 2 }, lastUsedAt: new Date("2026-04-01T00:00:00Z") },
        { keyId: "key_01NOSUCHKEY000000000000000", batchId: "batch-a1", counts: { valid: 1 } },
      ]);
      await store.recordUsage([{ keyId: a.keyId, batchId: "batch-a2", counts: { valid: 2 } }]);
      expect(await store.get(a.keyId)).toMatchObject({
        usage: { valid: 5, rateLimited: 1 },
        lastUsedAt: new Date("2026-04-01T00:00:00Z"),
      });
      expect(await store.get(b.keyId)).toMatchObject({
        usage: { revoked: 2 },
        lastUsedAt: new Date("2026-05-01T00:00:00Z"),
      });
      await store.recordUsage([]);
    });

    it("issue 9 item 11e: a usage batch written again (the retry of a partly failed write-back) counts once per key", async () => {
      const [a, b] = [sampleRecord(), sampleRecord()];
      await store.insert(a);
      await store.insert(b);
      const batch = [
        { keyId: a.keyId, batchId: "batch-b1", counts: { valid: 3 } },
        { keyId: b.keyId, batchId: "batch-b1", counts: { valid: 5, revoked: 1 } },
      ];
      // The write reached the store for `a` only, then failed: the writer cannot tell which part landed.
      await store.recordUsage(batch.slice(0, 1));
      // Another replica's batch lands on the same key in between.
      await store.recordUsage([{ keyId: a.keyId, batchId: "other-replica-1", counts: { valid: 1 } }]);
      // The retry, unchanged; and once more, as when the answer to the retry was lost too.
      await store.recordUsage(batch);
      await store.recordUsage(batch);
      expect((await store.get(a.keyId))?.usage).toEqual({ valid: 4 });
      expect((await store.get(b.keyId))?.usage).toEqual({ valid: 5, revoked: 1 });
      // A later batch counts as usual.
      await store.recordUsage([{ keyId: a.keyId, batchId: "batch-b2", counts: { valid: 2 } }]);
      expect((await store.get(a.keyId))?.usage).toEqual({ valid: 6 });
    });

    it("deletes a key so that neither its id nor its hash finds it", async () => {
      const record = sampleRecord();
      await store.insert(record);
      expect(await store.delete(record.keyId)).toBe(true);
      expect(await store.get(record.keyId)).toBeUndefined();
      expect(await store.findByHash(record.hash)).toBeUndefined();
      expect(await store.delete(record.keyId)).toBe(false);
    });

    it("hands out copies: changing a returned record changes nothing stored", async () => {
      const record = sampleRecord({ scopes: ["read"] });
      await store.insert(record);
      record.scopes.push("mutated-after-insert");
      const fetched = await store.get(record.keyId);
      fetched?.scopes.push("mutated-after-get");
      expect((await store.get(record.keyId))?.scopes).toEqual(["read"]);
    });

    it("stores a batch in one call, answering each record in order", async () => {
      const records = [sampleRecord(), sampleRecord({ remaining: 5 }), sampleRecord({ keyspaceId: "other" })];
      expect(await store.insertMany(records)).toEqual([undefined, undefined, undefined]);
      for (const record of records) {
        expect(await store.get(record.keyId)).toEqual(record);
        expect((await store.findByHash(record.hash))?.keyId).toBe(record.keyId);
      }
      expect(await store.insertMany([])).toEqual([]);
    });

    // The MongoDB stand-in ignores unique indexes; against it these cases are skipped, naming why.
    it("rejects a second key with the same id", async ({ skip }) => {
      skip(!subject.enforcesUniqueness, NEEDS_REAL_MONGODB);
      const record = sampleRecord();
      await store.insert(record);
      await expect(store.insert({ ...record, hash: randomBytes(32).toString("base64url") })).rejects.toThrow(
        DuplicateRecordError,
      );
    });

    it("rejects a second key with the same secret hash", async ({ skip }) => {
      skip(!subject.enforcesUniqueness, NEEDS_REAL_MONGODB);
      const record = sampleRecord();
      await store.insert(record);
      await expect(store.insert(sampleRecord({ hash: record.hash }))).rejects.toThrow(DuplicateRecordError);
      expect((await store.findByHash(record.hash))?.keyId).toBe(record.keyId);
    });

    it("answers a duplicate in a batch with DuplicateRecordError at its place and stores the others", async ({
      skip,
    }) => {
      skip(!subject.enforcesUniqueness, NEEDS_REAL_MONGODB);
      const existing = sampleRecord();
      await store.insert(existing);
      const fresh = sampleRecord();
      const sameHashAsExisting = sampleRecord({ hash: existing.hash });
      const sameIdAsExisting = sampleRecord({ keyId: existing.keyId });
      const later = sampleRecord();
      const sameHashAsLater = sampleRecord({ hash: later.hash });
      const outcomes = await store.insertMany([fresh, sameHashAsExisting, sameIdAsExisting, later, sameHashAsLater]);
      expect(outcomes.map((outcome) => outcome?.constructor)).toEqual([
        undefined,
        DuplicateRecordError,
        DuplicateRecordError,
        undefined,
        DuplicateRecordError,
      ]);
      expect(await store.get(fresh.keyId)).toEqual(fresh);
      expect(await store.get(later.keyId)).toEqual(later);
      expect(await store.get(sameHashAsExisting.keyId)).toBeUndefined();
      expect((await store.findByHash(existing.hash))?.keyId).toBe(existing.keyId);
      expect((await store.findByHash(later.hash))?.keyId).toBe(later.keyId);
    });
  });
}
