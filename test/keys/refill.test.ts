import { describe, expect, it } from "vitest";
import type { RefillPolicy } from "../../src/keys/key-record.js";
import { creditsAt, nextRefillAt, refillDue, refillPeriodStart } from "../../src/keys/refill.js";
import { sampleRecord } from "../support/records.js";

const at = (iso: string) => Date.parse(iso);
const daily: RefillPolicy = { interval: "daily", amount: 100, refillDay: 0 };
const monthly = (refillDay: number): RefillPolicy => ({ interval: "monthly", amount: 100, refillDay });

describe("refill periods", () => {
  it("start at UTC midnight for daily refills", () => {
    expect(refillPeriodStart(daily, at("2026-03-15T17:30:00Z"))).toBe(at("2026-03-15T00:00:00Z"));
  });

  it("start on the refill day for monthly refills, or the month before when it has not come yet", () => {
    expect(refillPeriodStart(monthly(10), at("2026-03-15T00:00:00Z"))).toBe(at("2026-03-10T00:00:00Z"));
    expect(refillPeriodStart(monthly(20), at("2026-03-15T00:00:00Z"))).toBe(at("2026-02-20T00:00:00Z"));
    expect(refillPeriodStart(monthly(0), at("2026-03-15T00:00:00Z"))).toBe(at("2026-03-01T00:00:00Z"));
  });

  it("fall on the last day of a month too short for the refill day", () => {
    expect(refillPeriodStart(monthly(31), at("2026-02-28T12:00:00Z"))).toBe(at("2026-02-28T00:00:00Z"));
    expect(refillPeriodStart(monthly(31), at("2026-03-05T00:00:00Z"))).toBe(at("2026-02-28T00:00:00Z"));
    expect(refillPeriodStart(monthly(31), at("2028-02-29T01:00:00Z"))).toBe(at("2028-02-29T00:00:00Z"));
    expect(refillPeriodStart(monthly(30), at("2026-01-10T00:00:00Z"))).toBe(at("2025-12-30T00:00:00Z"));
  });
});

describe("a refill is due", () => {
  it("once per period, counted from the last refill", () => {
    const record = sampleRecord({
      remaining: 0,
      refill: { ...daily, lastRefilledAt: new Date("2026-03-14T09:00:00Z") },
    });
    expect(refillDue(record, at("2026-03-14T23:59:59Z"))).toBeUndefined();
    expect(refillDue(record, at("2026-03-15T00:00:00Z"))).toEqual(new Date("2026-03-15T00:00:00Z"));
  });

  it("only for keys with credits and a refill", () => {
    expect(refillDue(sampleRecord({ remaining: 5 }), at("2030-01-01T00:00:00Z"))).toBeUndefined();
    expect(refillDue(sampleRecord({ refill: daily }), at("2030-01-01T00:00:00Z"))).toBeUndefined();
  });
});

describe("the next refill", () => {
  it("is the next midnight for daily refills", () => {
    expect(nextRefillAt(daily, at("2026-03-15T17:30:00Z"))).toBe(at("2026-03-16T00:00:00Z"));
  });

  it("is the refill day of the next month, clamped to short months", () => {
    expect(nextRefillAt(monthly(10), at("2026-03-15T00:00:00Z"))).toBe(at("2026-04-10T00:00:00Z"));
    expect(nextRefillAt(monthly(20), at("2026-03-15T00:00:00Z"))).toBe(at("2026-03-20T00:00:00Z"));
    expect(nextRefillAt(monthly(31), at("2026-01-31T12:00:00Z"))).toBe(at("2026-02-28T00:00:00Z"));
    expect(nextRefillAt(monthly(31), at("2026-02-28T12:00:00Z"))).toBe(at("2026-03-31T00:00:00Z"));
  });
});

describe("the credits a key has", () => {
  it("are its count, or the refill amount once a refill is due", () => {
    const record = sampleRecord({
      remaining: 2,
      refill: { ...daily, lastRefilledAt: new Date("2026-03-14T09:00:00Z") },
    });
    expect(creditsAt(record, at("2026-03-14T23:00:00Z"))).toBe(2);
    expect(creditsAt(record, at("2026-03-15T00:00:00Z"))).toBe(100);
    expect(creditsAt(sampleRecord({ remaining: 2 }), at("2030-01-01T00:00:00Z"))).toBe(2);
    expect(creditsAt(sampleRecord(), at("2030-01-01T00:00:00Z"))).toBeUndefined();
  });
});
