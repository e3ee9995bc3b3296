import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LEASE_SHARE_DIVISOR, leaseTake, leaseWant } from "../../src/keys/credit-lease.js";

const sizing = { max: 1_000, ttlMs: 10_000 };

describe("lease sizing", () => {
  it("never takes more than is available, nor less than the cost, and nothing when the cost does not fit", () => {
    fc.assert(
      fc.property(fc.nat(5_000), fc.nat(20), fc.nat(1_000_000), (want, cost, available) => {
        const take = leaseTake(want, cost, available);
        expect(take).toBeLessThanOrEqual(available);
        if (available < cost || available === 0) expect(take).toBe(0);
        else expect(take).toBeGreaterThanOrEqual(cost);
        if (cost > 0 && available >= cost) expect(take).toBeGreaterThan(0);
      }),
    );
  });

  it("takes at most a share of what is available beyond the cost, so that others can still lease", () => {
    fc.assert(
      fc.property(fc.nat(5_000), fc.integer({ min: 1, max: 20 }), fc.nat(1_000_000), (want, cost, available) => {
        const take = leaseTake(want, cost, available);
        expect(take).toBeLessThanOrEqual(Math.max(cost, Math.ceil(available / LEASE_SHARE_DIVISOR)));
        expect(take).toBeLessThanOrEqual(Math.max(cost, want));
      }),
    );
  });

  it("shrinks as the balance runs low: repeated leases drain a balance geometrically, one credit at a time at the end", () => {
    let available = 1_000;
    const takes: number[] = [];
    while (available > 0) {
      const take = leaseTake(1_000, 1, available);
      takes.push(take);
      available -= take;
    }
    expect(takes.slice(0, 3)).toEqual([250, 188, 141]);
    expect(takes.slice(-4)).toEqual([1, 1, 1, 1]);
    expect(takes.length).toBeLessThan(30);
  });

  it("asks for half a lease's life of the pace seen, between the cost and the maximum", () => {
    expect(leaseWant(100, 100, 1, sizing)).toBe(1_000); // 1,000/s for 5 s, capped
    expect(leaseWant(100, 5_000, 1, sizing)).toBe(100); // 20/s for 5 s
    expect(leaseWant(1, 60_000, 1, sizing)).toBe(1);
    expect(leaseWant(1, 60_000, 7, sizing)).toBe(7);
    fc.assert(
      fc.property(fc.nat(10_000), fc.nat(100_000), fc.nat(50), (spent, elapsed, cost) => {
        const want = leaseWant(spent, elapsed, cost, sizing);
        expect(want).toBeGreaterThanOrEqual(cost);
        expect(want).toBeLessThanOrEqual(Math.max(cost, sizing.max));
      }),
    );
  });
});
