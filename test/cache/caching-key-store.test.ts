import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { CachingKeyStore, type LocalCacheSettings } from "../../src/cache/caching-key-store.js";
import { createLogger } from "../../src/logger.js";
import type { KeyStore } from "../../src/store/key-store.js";
import { MemoryKeyStore } from "../../src/store/memory/memory-key-store.js";
import { connectRedis, type RedisClient } from "../../src/store/redis/redis-connection.js";
import { RedisInvalidationBus } from "../../src/store/redis/redis-invalidation-bus.js";
import { RedisKeyCache } from "../../src/store/redis/redis-key-cache.js";
import { keyStoreContract } from "../store/key-store-contract.js";
import { countingKeyStore } from "../support/counting-key-store.js";
import { sampleRecord } from "../support/records.js";
import { sharedRedisUrl, startPrivateRedis } from "../support/redis.js";
import { waitFor } from "../support/wait-for.js";

const silent = createLogger("silent");
const settings: LocalCacheSettings = { maxEntries: 1_000, ttlMs: 60_000, degradedTtlMs: 300, absentTtlMs: 60_000 };
const ttls = { recordMs: 60_000, absentMs: 60_000, tombstoneMs: 10_000 };
const clients: RedisClient[] = [];
const buses: RedisInvalidationBus[] = [];
afterAll(async () => {
  for (const bus of buses) await bus.close();
  for (const client of clients) await client.close().catch(() => {});
});

/** A replica's caching store over `inner`, sharing Redis at `url` (cache and invalidations). */
async function replica(inner: KeyStore, url = sharedRedisUrl, local = settings) {
  const redis = await connectRedis(url, silent);
  const bus = RedisInvalidationBus.open(redis, silent);
  await waitFor(() => bus.connected);
  clients.push(redis);
  buses.push(bus);
  return new CachingKeyStore(inner, { settings: local, shared: new RedisKeyCache(redis, ttls), bus });
}

keyStoreContract("memory behind the cache, with Redis", async () => ({
  store: await replica(new MemoryKeyStore()),
  enforcesUniqueness: true,
  cleanup: async () => {},
}));

describe("the verification cache", () => {
  it("answers repeated lookups, found or not, from memory", async () => {
    const { store, calls } = countingKeyStore(new MemoryKeyStore());
    const cache = new CachingKeyStore(store, { settings });
    const record = sampleRecord();
    await store.insert(record);
    const unknown = Array.from({ length: 10 }, () => randomBytes(32).toString("base64url"));
    for (let round = 0; round < 100; round++) {
      expect((await cache.findByHash(record.hash))?.keyId).toBe(record.keyId);
      for (const hash of unknown) expect(await cache.findByHash(hash)).toBeUndefined();
    }
    expect(calls.findByHash).toBe(11);
  });

  it("lets a second replica find a key in Redis without asking the store", async () => {
    const { store, calls } = countingKeyStore(new MemoryKeyStore());
    const record = sampleRecord();
    await store.insert(record);
    const [a, b] = [await replica(store), await replica(store)];
    await a.findByHash(record.hash);
    await b.findByHash(record.hash);
    expect(calls.findByHash).toBe(1);
  });

  it("drops a changed key in every replica at once", async () => {
    const inner = new MemoryKeyStore();
    const record = sampleRecord();
    await inner.insert(record);
    const [a, b] = [await replica(inner), await replica(inner)];
    expect((await b.findByHash(record.hash))?.revoked).toBe(false);
    await a.update(record.keyId, { revoked: true });
    await expect
      .poll(async () => (await b.findByHash(record.hash))?.revoked, { interval: 1, timeout: 1_000 })
      .toBe(true);
  });

  it("lets other replicas answer from the changed key at once, without asking the store", async () => {
    const { store, calls } = countingKeyStore(new MemoryKeyStore());
    const record = sampleRecord();
    await store.insert(record);
    const [a, b] = [await replica(store), await replica(store)];
    await b.findByHash(record.hash);
    const before = calls.findByHash;
    await a.update(record.keyId, { enabled: false });
    await expect
      .poll(async () => (await b.findByHash(record.hash))?.enabled, { interval: 1, timeout: 1_000 })
      .toBe(false);
    expect(calls.findByHash).toBe(before);
  });

  it("forgets a deleted key in every replica", async () => {
    const inner = new MemoryKeyStore();
    const record = sampleRecord();
    await inner.insert(record);
    const [a, b] = [await replica(inner), await replica(inner)];
    await b.findByHash(record.hash);
    await a.delete(record.keyId);
    await expect.poll(() => b.findByHash(record.hash), { interval: 1, timeout: 1_000 }).toBeUndefined();
  });

  it("does not keep an answer that a change overtook", async () => {
    const inner = new MemoryKeyStore();
    const record = sampleRecord();
    await inner.insert(record);
    let release: () => void = () => {};
    let slow = true;
    const slowStore = new Proxy(inner, {
      get(target, property, receiver) {
        if (property !== "findByHash") return Reflect.get(target, property, receiver);
        return async (hash: string) => {
          const answer = await target.findByHash(hash); // read before the change lands...
          if (slow) await new Promise<void>((resolve) => (release = resolve)); // ...delivered after it
          return answer;
        };
      },
    });
    const cache = new CachingKeyStore(slowStore, { settings });
    const lookup = cache.findByHash(record.hash);
    await new Promise((resolve) => setTimeout(resolve, 10));
    slow = false;
    await cache.update(record.keyId, { revoked: true });
    release();
    expect((await lookup)?.revoked).toBe(true);
    expect((await cache.findByHash(record.hash))?.revoked).toBe(true);
  });

  it("keeps staleness within the degraded TTL while invalidations cannot arrive", async () => {
    const redis = await startPrivateRedis();
    try {
      const inner = new MemoryKeyStore();
      const record = sampleRecord();
      await inner.insert(record);
      const a = await replica(inner, redis.url);
      const b = await replica(inner, redis.url);
      await redis.stop();
      await expect.poll(async () => (await b.findByHash(record.hash))?.keyId).toBe(record.keyId);
      await a.update(record.keyId, { revoked: true }); // nobody hears of it
      const changed = Date.now();
      await expect
        .poll(async () => (await b.findByHash(record.hash))?.revoked, { interval: 5, timeout: 2_000 })
        .toBe(true);
      expect(Date.now() - changed).toBeLessThan(settings.degradedTtlMs + 200);
    } finally {
      await redis.stop();
    }
  });
});
