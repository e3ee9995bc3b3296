import type { KeyStore } from "../ports/key-store.js";
import type { VerificationCache } from "./verification-cache.js";

/**
 * The key store as the application uses it: lookups by hash through the
 * verification cache, and every change to a key (update, delete, refill)
 * told to the cache, which drops and replaces the copies of every replica.
 * Everything else goes to the store as it is: credit leases too, which
 * change no key's state that a cache holds (a replica's lease is its own).
 */
export function propagateChanges(store: KeyStore, cache: VerificationCache): KeyStore {
  return {
    insert: (record) => store.insert(record),
    insertMany: (records) => store.insertMany(records),
    get: (keyId) => store.get(keyId),
    list: (query) => store.list(query),
    spendCredits: (keyId, cost) => store.spendCredits(keyId, cost),
    changeCredits: (keyId, change) => store.changeCredits(keyId, change),
    leaseCredits: (keyId, request) => store.leaseCredits(keyId, request),
    returnCredits: (keyId, holder, leaseId, unspent) => store.returnCredits(keyId, holder, leaseId, unspent),
    recordUsage: (updates) => store.recordUsage(updates),
    findByHash: (hash) => cache.findByHash(hash),
    async update(keyId, changes) {
      const updated = await store.update(keyId, changes);
      if (updated) await cache.changed(updated, updated);
      return updated;
    },
    async delete(keyId) {
      const record = await store.get(keyId);
      const deleted = await store.delete(keyId);
      if (record) await cache.changed(record, undefined);
      return deleted;
    },
    async refillCredits(keyId, amount, periodStart, now) {
      const refilled = await store.refillCredits(keyId, amount, periodStart, now);
      // Cached copies still say the refill is due; replace them so that no one asks again this period.
      const record = refilled ? await store.get(keyId) : undefined;
      if (record) await cache.changed(record, record);
      return refilled;
    },
  };
}
