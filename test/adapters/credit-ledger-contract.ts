import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LeaseRequest } from "../../src/ports/credit-ledger.js";
import type { KeyStore } from "../../src/ports/key-store.js";
import { sampleRecord } from "../support/records.js";
import type { StoreUnderTest } from "./key-store-contract.js";

const LATER = new Date("2999-01-01T00:00:00Z");
const LONG_AGO = new Date("2000-01-01T00:00:00Z");
let leases = 0;

/** A lease request for `take` credits, with a new lease id. */
function lease(holder: string, take: number, extra: Partial<LeaseRequest> = {}): LeaseRequest {
  leases += 1;
  return { holder, leaseId: `lease-${leases}`, take, expiresAt: LATER, dropExpiredBefore: LONG_AGO, ...extra };
}

/**
 * Credit leases, the same on every KeyStore adapter: a lease is one atomic
 * step that never takes more than the unleased credits, setting credits
 * voids leases, and a void lease gives nothing back.
 */
export function creditLedgerContract(adapter: string, open: () => Promise<StoreUnderTest>): void {
  describe(`CreditLedger leases contract: ${adapter}`, () => {
    let subject: StoreUnderTest;
    let store: KeyStore;
    beforeAll(async () => {
      subject = await open();
      store = subject.store;
    });
    afterAll(async () => {
      await subject.cleanup();
    });

    async function keyWith(remaining: number | undefined) {
      const record = sampleRecord(remaining === undefined ? {} : { remaining });
      await store.insert(record);
      return record;
    }
    const remainingOf = async (keyId: string) => (await store.get(keyId))?.remaining;

    it("takes a lease from the unleased credits, and leaves the rest of the record as it was", async () => {
      const record = await keyWith(100);
      expect(await store.leaseCredits(record.keyId, lease("a", 30))).toEqual({
        granted: true,
        remaining: 70,
        previousVoid: false,
      });
      expect(await store.get(record.keyId)).toEqual({ ...record, remaining: 70 });
    });

    it("never leases more than there are, however many holders ask at once", async () => {
      const record = await keyWith(100);
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, (_, holder) => store.leaseCredits(record.keyId, lease(`h${holder}`, 7))),
      );
      expect(outcomes.filter((outcome) => outcome?.granted)).toHaveLength(14);
      expect(await remainingOf(record.keyId)).toBe(2);
    });

    it("refuses a lease larger than what is left, changing nothing", async () => {
      const record = await keyWith(5);
      expect(await store.leaseCredits(record.keyId, lease("a", 6))).toEqual({
        granted: false,
        remaining: 5,
        previousVoid: false,
      });
      expect(await remainingOf(record.keyId)).toBe(5);
    });

    it("renews in one step: the unspent part goes back before the new lease is taken", async () => {
      const record = await keyWith(10);
      const first = lease("a", 8);
      await store.leaseCredits(record.keyId, first);
      // 2 unleased + 3 given back = 5: a lease of 6 is refused and the first one still stands.
      expect(
        await store.leaseCredits(record.keyId, lease("a", 6, { previous: { leaseId: first.leaseId, unspent: 3 } })),
      ).toEqual({ granted: false, remaining: 2, previousVoid: false });
      const second = lease("a", 5, { previous: { leaseId: first.leaseId, unspent: 3 } });
      expect(await store.leaseCredits(record.keyId, second)).toEqual({
        granted: true,
        remaining: 0,
        previousVoid: false,
      });
      // The first lease ended with the renewal: it gives nothing back twice.
      expect(await store.returnCredits(record.keyId, "a", first.leaseId, 3)).toBe(false);
      expect(await store.returnCredits(record.keyId, "a", second.leaseId, 4)).toBe(true);
      expect(await store.returnCredits(record.keyId, "a", second.leaseId, 4)).toBe(false);
      expect(await remainingOf(record.keyId)).toBe(4);
    });

    it("gives back only what the holder names, only for its own standing lease", async () => {
      const record = await keyWith(10);
      const own = lease("a", 4);
      await store.leaseCredits(record.keyId, own);
      expect(await store.returnCredits(record.keyId, "b", own.leaseId, 4)).toBe(false);
      expect(await store.returnCredits(record.keyId, "a", "lease-unknown", 4)).toBe(false);
      expect(await store.returnCredits(record.keyId, "a", own.leaseId, 1)).toBe(true);
      expect(await remainingOf(record.keyId)).toBe(7);
    });

    it.each([
      ["UpdateCredits set", (s: KeyStore, keyId: string) => s.changeCredits(keyId, { set: 50 })],
      ["an update of remaining", (s: KeyStore, keyId: string) => s.update(keyId, { remaining: 50 })],
      [
        "a refill",
        (s: KeyStore, keyId: string) =>
          s.refillCredits(keyId, 50, new Date("2026-03-02T00:00:00Z"), new Date("2026-03-02T08:00:00Z")),
      ],
    ])("%s voids every lease: nothing of them comes back", async (_, setCredits) => {
      const record = sampleRecord({
        remaining: 100,
        refill: { interval: "daily", amount: 50, refillDay: 0, lastRefilledAt: new Date("2026-03-01T00:00:00Z") },
      });
      await store.insert(record);
      const [a, b] = [lease("a", 30), lease("b", 30)];
      await store.leaseCredits(record.keyId, a);
      await store.leaseCredits(record.keyId, b);
      await setCredits(store, record.keyId);
      expect(await remainingOf(record.keyId)).toBe(50);
      expect(await store.returnCredits(record.keyId, "a", a.leaseId, 30)).toBe(false);
      const renewal = lease("b", 10, { previous: { leaseId: b.leaseId, unspent: 30 } });
      expect(await store.leaseCredits(record.keyId, renewal)).toEqual({
        granted: false,
        remaining: 50,
        previousVoid: true,
      });
      expect(await store.leaseCredits(record.keyId, lease("b", 10))).toMatchObject({ granted: true, remaining: 40 });
    });

    it("keeps leases standing when credits are added, or the key changes otherwise", async () => {
      const record = await keyWith(100);
      const a = lease("a", 30);
      await store.leaseCredits(record.keyId, a);
      expect(await store.changeCredits(record.keyId, { add: 5 })).toBe(75);
      await store.update(record.keyId, { name: "renamed" });
      expect(await store.returnCredits(record.keyId, "a", a.leaseId, 30)).toBe(true);
      expect(await remainingOf(record.keyId)).toBe(105);
    });

    it("drops the leases of other holders that expired before the time named, as spent", async () => {
      const record = await keyWith(100);
      const [dead, alive] = [
        lease("dead", 10, { expiresAt: new Date("2026-01-01T00:00:00Z") }),
        lease("alive", 10, { expiresAt: new Date("2026-01-01T00:10:00Z") }),
      ];
      await store.leaseCredits(record.keyId, dead);
      await store.leaseCredits(record.keyId, alive);
      const dropBefore = new Date("2026-01-01T00:05:00Z");
      expect(await store.leaseCredits(record.keyId, lease("c", 10, { dropExpiredBefore: dropBefore }))).toMatchObject({
        granted: true,
        remaining: 70,
      });
      expect(await store.returnCredits(record.keyId, "dead", dead.leaseId, 10)).toBe(false);
      expect(await store.returnCredits(record.keyId, "alive", alive.leaseId, 10)).toBe(true);
      expect(await remainingOf(record.keyId)).toBe(80);
    });

    it("has no leases for keys without a credit limit, or for no key", async () => {
      const record = await keyWith(undefined);
      expect(await store.leaseCredits(record.keyId, lease("a", 1))).toBeUndefined();
      expect(await store.leaseCredits("key_01NOSUCHKEY000000000000000", lease("a", 1))).toBeUndefined();
      expect(await store.returnCredits(record.keyId, "a", "lease-x", 1)).toBe(false);
      expect(await store.get(record.keyId)).toEqual(record);
    });

    it("refuses a negative or fractional take or give-back, and a holder that is no plain name", async () => {
      const record = await keyWith(10);
      const first = lease("a", 1);
      await store.leaseCredits(record.keyId, first);
      for (const bad of [
        lease("a", -5),
        lease("a", 0.5),
        lease("a", 1, { previous: { leaseId: first.leaseId, unspent: -3 } }),
        lease("a.b", 1),
        lease("$where", 1),
        lease("", 1),
      ]) {
        await expect(store.leaseCredits(record.keyId, bad)).rejects.toThrow(RangeError);
      }
      await expect(store.returnCredits(record.keyId, "a", first.leaseId, -1)).rejects.toThrow(RangeError);
      await expect(store.returnCredits(record.keyId, "a.b", first.leaseId, 1)).rejects.toThrow(RangeError);
      expect(await remainingOf(record.keyId)).toBe(9);
    });
  });
}
