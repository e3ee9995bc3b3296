import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { MemoryKeyStore } from "../../src/adapters/memory/memory-key-store.js";
import { closeRedis, type RedisClient } from "../../src/adapters/redis/redis-connection.js";
import { RedisInvalidationBus } from "../../src/adapters/redis/redis-invalidation-bus.js";
import { RedisKeyCache } from "../../src/adapters/redis/redis-key-cache.js";
import { createValueSigner } from "../../src/adapters/redis/value-signer.js";
import type { LocalCacheSettings } from "../../src/cache/verification-cache.js";
import { createLogger } from "../../src/observability/logger.js";
import type { KeyStore } from "../../src/ports/key-store.js";
import { keyStoreContract } from "../adapters/key-store-contract.js";
import { cachedKeyStore } from "../support/cached-key-store.js";
import { countingKeyStore } from "../support/counting-key-store.js";
import { sampleRecord } from "../support/records.js";
import { connectRedis, sharedRedisUrl, startPrivateRedis } from "../support/redis.js";
import { startTcpProxy } from "../support/tcp-proxy.js";
import { waitFor } from "../support/wait-for.js";

const silent = createLogger("silent");
const settings: LocalCacheSettings = { maxBytes: 16 * 2 ** 20, ttlMs: 60_000, degradedTtlMs: 300, absentTtlMs: 60_000 };
const ttls = { absentMs: 60_000, tombstoneMs: 10_000 };
const signer = createValueSigner({ current: "a secret every test replica shares, 32+ chars" });
const ignoreRejections = () => {};
const clients: RedisClient[] = [];
const buses: RedisInvalidationBus[] = [];
afterAll(async () => {
  for (const bus of buses) await bus.close();
  for (const client of clients) await closeRedis(client);
});

/** A replica's caching store over `inner`, sharing Redis at `url` (cache and invalidations). */
async function replica(inner: KeyStore, url = sharedRedisUrl, local = settings) {
  const redis = await connectRedis(url, silent);
  const bus = RedisInvalidationBus.open(redis, silent, signer, ignoreRejections);
  await waitFor(() => bus.connected);
  clients.push(redis);
  buses.push(bus);
  // As in production, Redis keeps records as long as replicas do.
  const shared = new RedisKeyCache(redis, { ...ttls, recordMs: local.ttlMs }, signer, ignoreRejections);
  return cachedKeyStore(inner, { settings: local, shared, bus });
}

keyStoreContract("memory behind the cache, with Redis", async () => ({
  store: await replica(new MemoryKeyStore()),
  enforcesUniqueness: true,
  cleanup: async () => {},
}));

describe("the verification cache", () => {
  it("answers repeated lookups, found or not, from memory", async () => {
    const { store, calls } = countingKeyStore(new MemoryKeyStore());
    const cache = cachedKeyStore(store, { settings });
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
    const cache = cachedKeyStore(slowStore, { settings });
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

describe("when the replica that changes a key cannot reach Redis", () => {
  /** Replica a reaches Redis through a proxy that the test cuts; replica b reaches it directly. */
  async function partitioned(local = settings) {
    const proxy = await startTcpProxy(Number(new URL(sharedRedisUrl).port || 6379));
    const inner = new MemoryKeyStore();
    const record = sampleRecord();
    await inner.insert(record);
    const a = await replica(inner, `redis://127.0.0.1:${proxy.port}`, local);
    const b = await replica(inner, sharedRedisUrl, local);
    const done = async () => {
      a.close();
      await proxy.close();
    };
    return { proxy, record, a, b, done };
  }

  it("sends the change again once it reaches Redis", async () => {
    const { proxy, record, a, b, done } = await partitioned();
    try {
      expect((await b.findByHash(record.hash))?.revoked).toBe(false);
      proxy.cut();
      await a.update(record.keyId, { revoked: true });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect((await b.findByHash(record.hash))?.revoked).toBe(false); // b cannot have heard of it
      proxy.restore();
      await expect
        .poll(async () => (await b.findByHash(record.hash))?.revoked, { interval: 10, timeout: 6_000 })
        .toBe(true);
    } finally {
      await done();
    }
  });

  it("keeps no copy longer than the cache TTL after it was read from the store, wherever it came from", async () => {
    const local = { ...settings, ttlMs: 1_000 };
    const { proxy, record, a, b, done } = await partitioned(local);
    try {
      const readAt = Date.now();
      await a.findByHash(record.hash); // read from the store, copied into Redis
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect((await b.findByHash(record.hash))?.revoked).toBe(false); // b's copy comes from Redis
      proxy.cut();
      await a.update(record.keyId, { revoked: true }); // never reaches Redis while the test runs
      expect((await b.findByHash(record.hash))?.revoked).toBe(false);
      await expect
        .poll(async () => (await b.findByHash(record.hash))?.revoked, { interval: 10, timeout: 3_000 })
        .toBe(true);
      // Had b counted the TTL from its own read, it would have answered from the copy until 1.6 s.
      expect(Date.now() - readAt).toBeLessThan(local.ttlMs + 300);
    } finally {
      await done();
    }
  });
});
