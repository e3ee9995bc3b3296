import { afterAll, describe, expect, it } from "vitest";
import { MemoryKeyStore } from "../../src/adapters/memory/memory-key-store.js";
import { closeRedis, type RedisClient, type RedisOptions } from "../../src/adapters/redis/redis-connection.js";
import { RedisInvalidationBus } from "../../src/adapters/redis/redis-invalidation-bus.js";
import { RedisKeyCache } from "../../src/adapters/redis/redis-key-cache.js";
import { createValueSigner } from "../../src/adapters/redis/value-signer.js";
import type { LocalCacheSettings } from "../../src/cache/verification-cache.js";
import { createLogger } from "../../src/observability/logger.js";
import type { KeyStore } from "../../src/ports/key-store.js";
import { keyStoreContract } from "../adapters/key-store-contract.js";
import { type CachedKeyStore, cachedKeyStore } from "../support/cached-key-store.js";
import { countingKeyStore } from "../support/counting-key-store.js";
import { sampleRecord } from "../support/records.js";
import { connectRedisOf } from "../support/redis.js";
import { waitFor } from "../support/wait-for.js";

const silent = createLogger("silent");
export const sharedCacheSettings: LocalCacheSettings = {
  maxBytes: 16 * 2 ** 20,
  ttlMs: 60_000,
  degradedTtlMs: 300,
  absentTtlMs: 60_000,
};
const ttls = { absentMs: 60_000, tombstoneMs: 10_000 };
const signer = createValueSigner({ current: "a secret every test replica shares, 32+ chars" });
const ignoreRejections = () => {};

/** Replicas of Keyward's caching key store sharing one Redis deployment; `close` closes every one made. */
export function replicas(redis: () => RedisOptions) {
  const clients: RedisClient[] = [];
  const buses: RedisInvalidationBus[] = [];
  const stores: CachedKeyStore[] = [];
  return {
    /** A replica's caching store over `inner` (cache and invalidations in Redis), once it hears invalidations. */
    async replica(inner: KeyStore, options = redis(), local = sharedCacheSettings): Promise<CachedKeyStore> {
      const client = await connectRedisOf(options, silent);
      const bus = RedisInvalidationBus.open(client, silent, signer, ignoreRejections);
      clients.push(client);
      buses.push(bus);
      await waitFor(() => bus.connected, 10_000);
      // As in production, Redis keeps records as long as replicas do.
      const shared = new RedisKeyCache(client, { ...ttls, recordMs: local.ttlMs }, signer, ignoreRejections);
      const store = cachedKeyStore(inner, { settings: local, shared, bus });
      stores.push(store);
      return store;
    },
    /** The invalidation bus of the replica made `index`-th. */
    bus: (index: number) => buses[index],
    async close() {
      for (const store of stores) store.close();
      for (const bus of buses) await bus.close();
      for (const client of clients) await closeRedis(client);
    },
  };
}

/**
 * What the shared cache in Redis and the invalidations over it must do,
 * whichever way Redis is deployed (`redis` is asked once the deployment runs).
 */
export function sharedCacheContract(deployment: string, redis: () => RedisOptions): void {
  describe(`shared cache and invalidations: ${deployment}`, () => {
    const made = replicas(redis);
    const replica = (inner: KeyStore) => made.replica(inner);
    afterAll(() => made.close());

    keyStoreContract(`memory behind the cache, with Redis (${deployment})`, async () => ({
      store: await replica(new MemoryKeyStore()),
      enforcesUniqueness: true,
      cleanup: async () => {},
    }));

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

    it("leaves a tombstone for every hash a change names, wherever its slot lives", async () => {
      const records = Array.from({ length: 20 }, () => sampleRecord());
      const client = await connectRedisOf(redis(), silent);
      try {
        const shared = new RedisKeyCache(client, { ...ttls, recordMs: 60_000 }, signer, ignoreRejections);
        for (const record of records) await shared.fill(record.hash, record, Date.now());
        expect(await shared.invalidate(records.map((record) => record.hash))).toBe(true);
        for (const record of records) expect(await shared.get(record.hash)).toEqual({ kind: "unknown" });
        await shared.fill(records[0]?.hash as string, records[0], Date.now()); // loses to the tombstone
        expect(await shared.get(records[0]?.hash as string)).toEqual({ kind: "unknown" });
      } finally {
        await closeRedis(client);
      }
    });
  });
}
