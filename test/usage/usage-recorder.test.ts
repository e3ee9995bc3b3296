import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryKeyStore } from "../../src/adapters/memory/memory-key-store.js";
import { MongoKeyStore } from "../../src/adapters/mongo/mongo-key-store.js";
import { createLogger } from "../../src/observability/logger.js";
import type { KeyStore } from "../../src/ports/key-store.js";
import { StoreUnavailableError } from "../../src/ports/store-errors.js";
import type { UsageUpdate } from "../../src/ports/usage-sink.js";
import { UsageRecorder } from "../../src/usage/usage-recorder.js";
import { openTestDatabase } from "../support/mongo.js";
import { sampleRecord } from "../support/records.js";

/**
 * The real store, except that its next usage write applies only the first
 * update of the batch and then fails: what MongoDB's unordered bulkWrite
 * leaves behind when the connection drops mid-batch. A wrapper rather than a
 * TCP proxy cut mid-write, because one bulkWrite is one message on the wire
 * and where a cut lands in the server's work on it cannot be chosen; the test
 * must land a partial write every time.
 */
function failingPartWayOnce(inner: KeyStore): { store: Pick<KeyStore, "recordUsage">; writes: UsageUpdate[][] } {
  let armed = true;
  const writes: UsageUpdate[][] = [];
  return {
    writes,
    store: {
      async recordUsage(updates) {
        writes.push([...updates]);
        if (!armed) return inner.recordUsage(updates);
        armed = false;
        await inner.recordUsage(updates.slice(0, 1));
        throw new StoreUnavailableError("MongoDB", { cause: new Error("connection reset mid-batch") });
      },
    },
  };
}

const adapters: [string, () => Promise<{ store: KeyStore; close(): Promise<void> }>][] = [
  ["memory", async () => ({ store: new MemoryKeyStore(), close: async () => {} })],
  [
    process.env.MONGODB_URI ? "mongodb (MONGODB_URI)" : "mongodb (stand-in)",
    async () => {
      const database = await openTestDatabase();
      return { store: await MongoKeyStore.open(database.db, createLogger("silent")), close: database.close };
    },
  ],
];

describe.each(adapters)("UsageRecorder on %s", (_, open) => {
  let store: KeyStore;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ store, close } = await open());
  });
  afterAll(() => close());

  it("issue 9 item 11e: a write-back that failed after part of it was applied is retried without counting that part twice", async () => {
    const [a, b] = [sampleRecord(), sampleRecord()];
    await store.insert(a);
    await store.insert(b);
    const { store: flaky, writes } = failingPartWayOnce(store);
    const recorder = new UsageRecorder(flaky, createLogger("silent"), 60_000);
    const now = Date.UTC(2026, 3, 1);
    for (let i = 0; i < 3; i++) recorder.record(a.keyId, "valid", now);
    recorder.record(b.keyId, "valid", now);
    recorder.record(b.keyId, "revoked", now);
    await recorder.flush(); // applies a's counts, then fails

    // Newer counts arrive before the retry.
    recorder.record(a.keyId, "valid", now + 1_000);
    recorder.record(b.keyId, "rateLimited", now + 1_000);
    await recorder.flush();
    await recorder.stop();

    expect((await store.get(a.keyId))?.usage).toEqual({ valid: 4 });
    expect((await store.get(b.keyId))?.usage).toEqual({ valid: 1, revoked: 1, rateLimited: 1 });
    expect((await store.get(a.keyId))?.lastUsedAt).toEqual(new Date(now + 1_000));
    // The failed batch went out again unchanged (same id) before the newer one.
    expect(writes[1]).toEqual(writes[0]);
    expect(writes[2]?.every((update) => update.batchId !== writes[0]?.[0]?.batchId)).toBe(true);
  });

  it("keeps newer counts apart while the failed batch cannot be written, and writes both once the store answers", async () => {
    const key = sampleRecord();
    await store.insert(key);
    let down = true;
    const recorder = new UsageRecorder(
      {
        recordUsage: (updates) =>
          down ? Promise.reject(new StoreUnavailableError("MongoDB")) : store.recordUsage(updates),
      },
      createLogger("silent"),
      60_000,
    );
    recorder.record(key.keyId, "valid", Date.UTC(2026, 3, 1));
    await recorder.flush();
    recorder.record(key.keyId, "valid", Date.UTC(2026, 3, 1));
    await recorder.flush();
    recorder.record(key.keyId, "expired", Date.UTC(2026, 3, 1));
    down = false;
    await recorder.stop();
    expect((await store.get(key.keyId))?.usage).toEqual({ valid: 2, expired: 1 });
  });
});
