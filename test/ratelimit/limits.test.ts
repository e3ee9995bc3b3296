import { describe, expect, it } from "vitest";
import { limitsFor, windowOf } from "../../src/ratelimit/limits.js";

const policies = [
  { name: "requests", limit: 100, durationMs: 60_000 },
  { name: "tokens", limit: 10_000, durationMs: 3_600_000 },
];

describe("the limits a verification counts against", () => {
  it("are the key's own at the request's cost", () => {
    expect(limitsFor(policies, [], 3)).toEqual([
      { name: "requests", limit: 100, durationMs: 60_000, cost: 3 },
      { name: "tokens", limit: 10_000, durationMs: 3_600_000, cost: 3 },
    ]);
  });

  it("take a request's override of cost, limit and duration by name", () => {
    expect(
      limitsFor(
        policies,
        [
          { name: "tokens", cost: 250 },
          { name: "requests", limit: 5, durationMs: 1_000 },
        ],
        1,
      ),
    ).toEqual([
      { name: "requests", limit: 5, durationMs: 1_000, cost: 1 },
      { name: "tokens", limit: 10_000, durationMs: 3_600_000, cost: 250 },
    ]);
  });

  it("add a limit the key lacks only when the request gives both limit and duration", () => {
    const limits = limitsFor(
      policies,
      [
        { name: "burst", limit: 2, durationMs: 1_000 },
        { name: "vague", cost: 9 },
      ],
      1,
    );
    expect(limits.map((limit) => limit.name)).toEqual(["requests", "tokens", "burst"]);
  });
});

describe("fixed windows", () => {
  it("are aligned to the epoch", () => {
    expect(windowOf(61_500, 60_000)).toEqual({ start: 60_000, end: 120_000 });
    expect(windowOf(60_000, 60_000)).toEqual({ start: 60_000, end: 120_000 });
  });
});
