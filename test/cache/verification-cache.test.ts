import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { MemoryKeyStore } from "../../src/adapters/memory/memory-key-store.js";
import type { KeyStore } from "../../src/ports/key-store.js";
import { cachedKeyStore } from "../support/cached-key-store.js";
import { countingKeyStore } from "../support/counting-key-store.js";
import { sampleRecord } from "../support/records.js";
import { sharedRedisUrl, startPrivateRedis } from "../support/redis.js";
import { startTcpProxy } from "../support/tcp-proxy.js";
import { replicas, sharedCacheContract, sharedCacheSettings } from "./shared-cache-contract.js";

const settings = sharedCacheSettings;
const made = replicas(() => ({ url: sharedRedisUrl }));
afterAll(() => made.close());

/** A replica's caching store over `inner`, sharing Redis at `url` (cache and invalidations). */
function replica(inner: KeyStore, url = sharedRedisUrl, local = settings) {
  return made.replica(inner, { url }, local);
}

sharedCacheContract("single", () => ({ url: sharedRedisUrl }));

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
