import { afterAll, describe, expect, it } from "vitest";
import { MemoryKeyStore } from "../../src/adapters/memory/memory-key-store.js";
import { closeRedis, type RedisClient } from "../../src/adapters/redis/redis-connection.js";
import { RedisKeyCache } from "../../src/adapters/redis/redis-key-cache.js";
import { createValueSigner } from "../../src/adapters/redis/value-signer.js";
import { estimatedEntryBytes } from "../../src/cache/entry-size.js";
import type { LocalCacheSettings } from "../../src/cache/verification-cache.js";
import type { KeyRecord } from "../../src/keys/key-record.js";
import { verifiableKey } from "../../src/keys/verifiable-key.js";
import { createLogger } from "../../src/observability/logger.js";
import { cachedKeyStore } from "../support/cached-key-store.js";
import { countingKeyStore } from "../support/counting-key-store.js";
import { sampleRecord } from "../support/records.js";
import { connectRedis, sharedRedisUrl } from "../support/redis.js";

const MAX_BYTES = 256 * 1024;
const settings: LocalCacheSettings = { maxBytes: MAX_BYTES, ttlMs: 60_000, degradedTtlMs: 60_000, absentTtlMs: 60_000 };
const clients: RedisClient[] = [];
afterAll(async () => {
  for (const client of clients) await closeRedis(client);
});

/** A key whose meta is about `metaBytes` of JSON: the kind that must not let a cache bounded by count grow without end. */
function bigKey(metaBytes: number): KeyRecord {
  const fields = Object.fromEntries(Array.from({ length: metaBytes / 64 }, (_, i) => [`field_${i}`, "x".repeat(50)]));
  return sampleRecord({ meta: fields, permissions: ["documents.read", "documents.write"] });
}

describe("issue 11: the in-process cache is bounded in bytes", () => {
  it("never holds more than KEYWARD_CACHE_MAX_BYTES by its estimate, dropping the least recently used first", async () => {
    const { store, calls } = countingKeyStore(new MemoryKeyStore());
    const cache = cachedKeyStore(store, { settings });
    const records = Array.from({ length: 200 }, () => bigKey(8 * 1024));
    for (const record of records) await store.insert(record);
    const perEntry = estimatedEntryBytes(verifiableKey(records[0] as KeyRecord));
    expect(perEntry).toBeGreaterThan(8 * 1024);
    for (const record of records) {
      expect((await cache.findByHash(record.hash))?.keyId).toBe(record.keyId);
      expect(cache.cache.localBytes).toBeLessThanOrEqual(MAX_BYTES);
    }
    // Full: about as many entries as fit, not all 200.
    expect(cache.cache.localBytes).toBeGreaterThan(MAX_BYTES - perEntry * 2);
    // The latest are answered from memory; the oldest were dropped and come from the store again, correctly.
    const before = calls.findByHash ?? 0;
    const latest = records.at(-1) as KeyRecord;
    expect((await cache.findByHash(latest.hash))?.keyId).toBe(latest.keyId);
    expect(calls.findByHash).toBe(before);
    const oldest = records[0] as KeyRecord;
    expect(await cache.findByHash(oldest.hash)).toEqual(verifiableKey(oldest));
    expect(calls.findByHash).toBe(before + 1);
    expect(cache.cache.localBytes).toBeLessThanOrEqual(MAX_BYTES);
  });

  it("answers a dropped key from Redis, the next layer, without asking the store", async () => {
    const redis = await connectRedis(sharedRedisUrl, createLogger("silent"));
    clients.push(redis);
    const signer = createValueSigner({ current: "the cache bound test's secret, 32+ characters" });
    const shared = new RedisKeyCache(
      redis,
      { recordMs: 60_000, absentMs: 60_000, tombstoneMs: 60_000 },
      signer,
      () => {},
    );
    const { store, calls } = countingKeyStore(new MemoryKeyStore());
    const cache = cachedKeyStore(store, { settings, shared });
    const records = Array.from({ length: 100 }, () => bigKey(8 * 1024));
    for (const record of records) {
      await store.insert(record);
      await cache.findByHash(record.hash);
    }
    expect(calls.findByHash).toBe(100);
    const oldest = records[0] as KeyRecord;
    expect(await cache.findByHash(oldest.hash)).toEqual(verifiableKey(oldest));
    expect(calls.findByHash).toBe(100);
    expect(cache.cache.localBytes).toBeLessThanOrEqual(MAX_BYTES);
    await redis.del(records.map((record) => `kw:key:{${record.hash}}`));
  });

  it("counts what an entry keeps alive: more for more meta, never less than the key itself as JSON", () => {
    const small = verifiableKey(sampleRecord());
    const large = verifiableKey(bigKey(16 * 1024));
    expect(estimatedEntryBytes(large)).toBeGreaterThan(estimatedEntryBytes(small) + 16 * 1024);
    expect(estimatedEntryBytes(small)).toBeGreaterThan(JSON.stringify(small).length);
    expect(estimatedEntryBytes(undefined)).toBeGreaterThan(0);
  });
});

describe("issue 11: renewing an entry", () => {
  it("keeps the cached object when the key read again is unchanged, so answers made from it live on", async () => {
    let now = 1_000_000;
    const store = new MemoryKeyStore();
    const cache = cachedKeyStore(store, { settings: { ...settings, ttlMs: 1_000 }, clock: () => now });
    const record = sampleRecord();
    await store.insert(record);
    const first = await cache.findByHash(record.hash);
    now += 5_000; // expired: the next lookup reads the store again
    const renewed = await cache.findByHash(record.hash);
    expect(renewed).toBe(first);
    await cache.update(record.keyId, { name: "renamed" });
    now += 5_000;
    const changed = await cache.findByHash(record.hash);
    expect(changed).not.toBe(first);
    expect(changed?.name).toBe("renamed");
  });
});
