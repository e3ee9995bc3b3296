import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MemoryKeyStore } from "../../src/adapters/memory/memory-key-store.js";
import { CreditLeases, type CreditWrite } from "../../src/credits/credit-leases.js";
import { tellCreditChanges } from "../../src/credits/tell-credit-changes.js";
import type { KeyRecord } from "../../src/keys/key-record.js";
import { createLogger } from "../../src/observability/logger.js";
import type { KeyStore } from "../../src/ports/key-store.js";
import { sampleRecord } from "../support/records.js";

const settings = { max: 1_000, ttlMs: 10_000, idleMs: 1_000 };

/** Time as the test moves it. */
class TestClock {
  constructor(public now: number) {}
  tick(ms: number): number {
    this.now += ms;
    return this.now;
  }
}

/** A replica's leases over a shared store, on a clock the test moves, counting the writes it sends. */
function replica(store: KeyStore, holder: string, clock: TestClock, overrides: Partial<typeof settings> = {}) {
  const writes: Record<CreditWrite, number> = { spend: 0, lease: 0, return: 0 };
  const leases = new CreditLeases({
    ledger: store,
    holder,
    settings: { ...settings, ...overrides },
    clock: () => clock.now,
    logger: createLogger("silent"),
    onWrite: (write) => {
      writes[write] += 1;
    },
  });
  return { leases, writes, total: () => writes.spend + writes.lease + writes.return };
}

async function keyWith(store: KeyStore, overrides: Partial<KeyRecord>): Promise<KeyRecord> {
  const record = sampleRecord(overrides);
  await store.insert(record);
  return record;
}

describe("credit leases", () => {
  it("a hot key costs at most one store write per 50 verifications", async () => {
    const store = new MemoryKeyStore();
    const clock = new TestClock(Date.parse("2026-03-01T12:00:00Z"));
    const record = await keyWith(store, { remaining: 1_000_000 });
    const { leases, writes, total } = replica(store, "a", clock);
    const verifications = 10_000;
    for (let i = 0; i < verifications; i++) {
      clock.now += 1; // 1,000 verifications a second
      expect((await leases.spend(record, 1, clock.now)).spent).toBe(true);
    }
    await leases.stop();
    console.log(
      `hot key, 10,000 verifications at 1,000/s: ${total()} credit writes (${JSON.stringify(writes)}), one per ${Math.floor(verifications / total())}`,
    );
    expect(total() * 50).toBeLessThanOrEqual(verifications);
    expect((await store.get(record.keyId))?.remaining).toBe(1_000_000 - verifications);
  });

  it("spending a small balance to the end costs more writes as leases shrink, still under one per 50", async () => {
    const store = new MemoryKeyStore();
    const clock = new TestClock(Date.parse("2026-03-01T12:00:00Z"));
    const record = await keyWith(store, { remaining: 5_000 });
    const { leases, writes, total } = replica(store, "a", clock);
    let admitted = 0;
    for (let i = 0; i < 6_000; i++) {
      clock.now += 1;
      if ((await leases.spend(record, 1, clock.now)).spent) admitted += 1;
    }
    await leases.stop();
    console.log(
      `5,000 credits spent to the end by 6,000 verifications: ${total()} credit writes (${JSON.stringify(writes)})`,
    );
    expect(admitted).toBe(5_000);
    expect(total() * 50).toBeLessThanOrEqual(5_000);
    expect((await store.get(record.keyId))?.remaining).toBe(0);
  });

  it("a key spent now and then costs one write per verification and holds no lease", async () => {
    const store = new MemoryKeyStore();
    const clock = new TestClock(Date.parse("2026-03-01T12:00:00Z"));
    const record = await keyWith(store, { remaining: 10 });
    const { leases, writes } = replica(store, "a", clock);
    for (let i = 0; i < 5; i++) {
      clock.now += 5_000;
      expect(await leases.spend(record, 2, clock.now)).toEqual({ spent: true, remaining: 8 - 2 * i });
      expect(leases.leased).toBe(0);
    }
    expect(await leases.spend(record, 1, clock.tick(5_000))).toEqual({ spent: false, remaining: 0 });
    expect(writes).toEqual({ spend: 6, lease: 0, return: 0 });
  });

  it("gives an idle lease back, so another replica can spend what it held", async () => {
    const store = new MemoryKeyStore();
    const clock = new TestClock(Date.parse("2026-03-01T12:00:00Z"));
    const record = await keyWith(store, { remaining: 100 });
    const [a, b] = [replica(store, "a", clock), replica(store, "b", clock)];
    let admitted = 0;
    for (let i = 0; i < 10; i++) if ((await a.leases.spend(record, 1, clock.tick(1))).spent) admitted += 1;
    expect(a.leases.leased).toBe(1);
    // b spends everything it can reach; what a holds is out of its reach until a gives it back.
    while ((await b.leases.spend(record, 1, clock.tick(1))).spent) admitted += 1;
    expect(admitted).toBeLessThan(100);
    clock.now += settings.idleMs;
    await a.leases.sweep();
    expect(a.leases.leased).toBe(0);
    clock.now += 100; // b's memory of an empty store lasts 100 ms
    while ((await b.leases.spend(record, 1, clock.tick(1))).spent) admitted += 1;
    expect(admitted).toBe(100);
  });

  it("never over-spends, whatever the interleaving; loses nothing but what replicas that died held", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 300 }),
        fc.array(
          fc.record({
            replica: fc.nat(2),
            cost: fc.integer({ min: 1, max: 5 }),
            step: fc.constantFrom(0, 1, 50, 700, 1_500, 12_000),
            action: fc.constantFrom("spend", "spend", "spend", "spend", "sweep", "add", "set", "crash"),
          }),
          { maxLength: 200 },
        ),
        async (credits, steps) => {
          const store = new MemoryKeyStore();
          const clock = new TestClock(Date.parse("2026-03-01T12:00:00Z"));
          const record = await keyWith(store, { remaining: credits });
          const replicas = [replica(store, "a", clock), replica(store, "b", clock), replica(store, "c", clock)];
          // Credits granted since the last `set`, and admitted since then (on leases taken after it).
          let granted = credits;
          let admitted = 0;
          let crashes = 0;
          for (const step of steps) {
            // Time passes as it does for running replicas: their timers give idle and expired leases back.
            for (let passed = settings.idleMs; passed <= step.step; passed += settings.idleMs) {
              clock.now += settings.idleMs;
              await Promise.all(replicas.map((each) => each.leases.sweep()));
            }
            clock.now += step.step % settings.idleMs;
            const { leases } = replicas[step.replica] as (typeof replicas)[number];
            if (step.action === "sweep") await leases.sweep();
            else if (step.action === "crash") {
              // Killed: its leases are never given back; it comes back under a new holder id.
              crashes += 1;
              replicas[step.replica] = replica(store, `r${crashes}`, clock);
            } else if (step.action === "add") {
              await store.changeCredits(record.keyId, { add: 10 });
              await leases.release(record.keyId);
              granted += 10;
            } else if (step.action === "set") {
              // Every replica hears of it here, as the one making it does; the store voids the others' leases.
              await store.changeCredits(record.keyId, { set: 20 });
              await Promise.all(replicas.map((each) => each.leases.release(record.keyId)));
              [granted, admitted, crashes] = [20, 0, 0];
            } else if ((await leases.spend(record, step.cost, clock.now)).spent) admitted += step.cost;
            expect(admitted).toBeLessThanOrEqual(granted);
          }
          await Promise.all(replicas.map(({ leases }) => leases.stop()));
          const lost = granted - admitted - ((await store.get(record.keyId))?.remaining ?? 0);
          expect(lost).toBeGreaterThanOrEqual(0);
          expect(lost).toBeLessThanOrEqual(crashes * settings.max);
          if (crashes === 0) expect(lost).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("a replica that dies loses at most its lease, which no one else is handed before it expires", async () => {
    const store = new MemoryKeyStore();
    const clock = new TestClock(Date.parse("2026-03-01T12:00:00Z"));
    const record = await keyWith(store, { remaining: 10_000 });
    const [dead, alive] = [replica(store, "dead", clock), replica(store, "alive", clock)];
    for (let i = 0; i < 100; i++) await dead.leases.spend(record, 1, clock.tick(1));
    // `dead` stops without giving anything back (SIGKILL). Until its lease expires, no one else is handed it.
    let admitted = 100;
    while ((await alive.leases.spend(record, 1, clock.tick(1))).spent) admitted += 1;
    expect(admitted).toBe(10_000 - 1_000 + 99); // it leased 1,000 (after one spend without a lease) and spent 99 of them
    // Nor after: what it held counts as spent. Its lease is dropped from the key at the next lease taken after.
    clock.now += 2 * settings.ttlMs;
    await store.changeCredits(record.keyId, { add: 10 });
    while ((await alive.leases.spend(record, 1, clock.tick(1))).spent) admitted += 1;
    await alive.leases.stop();
    const lost = 10_010 - admitted - ((await store.get(record.keyId))?.remaining ?? 0);
    console.log(`a replica died holding a lease: ${lost} of 10,010 credits lost (its lease, at most ${settings.max})`);
    expect(lost).toBe(1_000 - 99);
    expect(await store.returnCredits(record.keyId, "dead", "1", 1)).toBe(false);
  });

  it("after a set on another replica, spends at most what its lease had left, then the new balance", async () => {
    const store = new MemoryKeyStore();
    const clock = new TestClock(Date.parse("2026-03-01T12:00:00Z"));
    const record = await keyWith(store, { remaining: 10_000 });
    const { leases } = replica(store, "a", clock);
    for (let i = 0; i < 10; i++) await leases.spend(record, 1, clock.tick(1));
    await store.changeCredits(record.keyId, { set: 30 }); // made elsewhere: this replica is not told
    let admitted = 0;
    while ((await leases.spend(record, 1, clock.tick(1))).spent) admitted += 1;
    // 999 left of its lease of 1,000 (spent before the set took effect here), then the 30 set.
    expect(admitted).toBe(991 + 30);
    expect((await store.get(record.keyId))?.remaining).toBe(0);
  });

  it("after a refill, stops spending a lease taken before it", async () => {
    const store = new MemoryKeyStore();
    const clock = new TestClock(Date.parse("2026-03-01T23:59:00Z"));
    const refill = {
      interval: "daily" as const,
      amount: 50,
      refillDay: 0,
      lastRefilledAt: new Date(clock.now - 60_000),
    };
    const record = await keyWith(store, { remaining: 1_000, refill });
    const { leases } = replica(store, "a", clock);
    for (let i = 0; i < 20; i++) await leases.spend(record, 1, clock.tick(1));
    expect(leases.leased).toBe(1);
    clock.now = Date.parse("2026-03-02T00:00:01Z");
    // The record as cached still says the last refill was yesterday: this verification performs it.
    let admitted = 0;
    for (let i = 0; i < 100; i++) if ((await leases.spend(record, 1, clock.tick(1))).spent) admitted += 1;
    expect(admitted).toBe(50);
  });

  it("stops spending a lease taken before a refill another replica made, once the record shows it", async () => {
    const store = new MemoryKeyStore();
    const clock = new TestClock(Date.parse("2026-03-01T23:59:59Z"));
    const refill = {
      interval: "daily" as const,
      amount: 50,
      refillDay: 0,
      lastRefilledAt: new Date(clock.now - 60_000),
    };
    const record = await keyWith(store, { remaining: 1_000, refill });
    const { leases } = replica(store, "a", clock);
    for (let i = 0; i < 20; i++) await leases.spend(record, 1, clock.tick(1));
    expect(leases.leased).toBe(1);
    // Past midnight another replica performs the refill; the cache then carries the record it wrote.
    const refilledAt = new Date(Date.parse("2026-03-02T00:00:01Z"));
    expect(await store.refillCredits(record.keyId, 50, new Date("2026-03-02T00:00:00Z"), refilledAt)).toBe(true);
    const refreshed = { ...record, refill: { ...refill, lastRefilledAt: refilledAt } };
    clock.now = refilledAt.getTime();
    let admitted = 0;
    for (let i = 0; i < 100; i++) if ((await leases.spend(refreshed, 1, clock.tick(1))).spent) admitted += 1;
    expect(admitted).toBe(50);
  });

  it("answers refused at once when the store had too few, then asks again after 100 ms", async () => {
    const store = new MemoryKeyStore();
    const clock = new TestClock(Date.parse("2026-03-01T12:00:00Z"));
    const record = await keyWith(store, { remaining: 0 });
    const { leases, total } = replica(store, "a", clock);
    for (let i = 0; i < 50; i++) expect((await leases.spend(record, 1, clock.tick(1))).spent).toBe(false);
    const asked = total();
    expect(asked).toBeLessThanOrEqual(3);
    await store.changeCredits(record.keyId, { add: 5 });
    clock.now += 100;
    expect((await leases.spend(record, 1, clock.now)).spent).toBe(true);
  });
});

describe("a lease write whose answer is lost", () => {
  it("ends the lease it renewed: what went back is never spent here as well", async () => {
    const store = new MemoryKeyStore();
    const clock = new TestClock(Date.parse("2026-03-01T12:00:00Z"));
    const record = await keyWith(store, { remaining: 100 });
    let loseAnswers = false;
    // The store applies the write, then the connection drops before the answer arrives.
    const flaky: KeyStore = Object.assign(Object.create(store) as KeyStore, {
      async leaseCredits(keyId: string, request: Parameters<KeyStore["leaseCredits"]>[1]) {
        const outcome = await store.leaseCredits(keyId, request);
        if (loseAnswers) throw new Error("connection reset");
        return outcome;
      },
    });
    const { leases } = replica(flaky, "a", clock);
    let admitted = 0;
    const spend = async (cost: number) => {
      try {
        if ((await leases.spend(record, cost, clock.tick(1))).spent) admitted += cost;
      } catch {}
    };
    await spend(1);
    await spend(1); // a lease of 25 (a quarter of 99), 24 left
    loseAnswers = true;
    await spend(30); // renewal: 24 go back, 30 are taken; the answer is lost
    loseAnswers = false;
    for (let i = 0; i < 200; i++) await spend(1);
    await leases.stop();
    expect(admitted + ((await store.get(record.keyId))?.remaining ?? 0)).toBeLessThanOrEqual(100);
    expect(admitted).toBe(100 - 30);
  });
});

describe("the key service's store", () => {
  it("gives this replica's lease back before a key is read and after its credits are set", async () => {
    const store = new MemoryKeyStore();
    const clock = new TestClock(Date.parse("2026-03-01T12:00:00Z"));
    const record = await keyWith(store, { remaining: 1_000 });
    const { leases } = replica(store, "a", clock);
    const service = tellCreditChanges(store, leases);
    for (let i = 0; i < 10; i++) await leases.spend(record, 1, clock.tick(1));
    expect(leases.leased).toBe(1);
    expect((await service.get(record.keyId))?.remaining).toBe(990);
    expect(leases.leased).toBe(0);
    for (let i = 0; i < 10; i++) await leases.spend(record, 1, clock.tick(1));
    expect(await service.changeCredits(record.keyId, { set: 3 })).toBe(3);
    // At once, not after a lease renewal: the lease taken before the set is no longer spent.
    let admitted = 0;
    while ((await leases.spend(record, 1, clock.tick(1))).spent) admitted += 1;
    expect(admitted).toBe(3);
  });
});
