import { describe, expect, it } from "vitest";
import { MemoryKeyStore } from "../../src/adapters/memory/memory-key-store.js";
import { propagateChanges } from "../../src/cache/propagate-changes.js";
import type { VerificationCache } from "../../src/cache/verification-cache.js";
import { sampleRecord } from "../support/records.js";

describe("credit leases and the verification cache", () => {
  it("lease writes reach the store without telling the cache; a refill still does", async () => {
    const store = new MemoryKeyStore();
    const changes: string[] = [];
    // Only the cache's change hook is observed here, so a stand-in records the calls it gets.
    const cache = {
      changed: async (before: { keyId: string }) => {
        changes.push(before.keyId);
      },
    } as unknown as VerificationCache;
    const keys = propagateChanges(store, cache);
    const record = sampleRecord({
      remaining: 100,
      refill: { interval: "daily", amount: 50, refillDay: 0, lastRefilledAt: new Date("2026-03-01T00:00:00Z") },
    });
    await store.insert(record);
    const expiresAt = new Date("2999-01-01T00:00:00Z");
    const dropExpiredBefore = new Date(0);
    for (let i = 1; i <= 20; i++) {
      const previous = i > 1 ? { leaseId: `${i - 1}`, unspent: 1 } : undefined;
      const lease = { holder: "a", leaseId: `${i}`, take: 3, expiresAt, dropExpiredBefore, previous };
      expect(await keys.leaseCredits(record.keyId, lease)).toMatchObject({ granted: true });
    }
    expect(await keys.returnCredits(record.keyId, "a", "20", 3)).toBe(true);
    expect(changes).toEqual([]);
    await keys.refillCredits(record.keyId, 50, new Date("2026-03-02T00:00:00Z"), new Date("2026-03-02T01:00:00Z"));
    expect(changes).toEqual([record.keyId]);
  });
});
