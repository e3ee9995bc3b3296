import { describe, expect, it } from "vitest";
import { CounterBudget } from "../../src/ratelimit/counter-budget.js";

describe("issue 9 item 6: the counters one rule may create", () => {
  it("are bounded per window; further values share the rule's overflow counter", () => {
    const budget = new CounterBudget(2);
    const counter = (value: string, window = 0) => budget.counterFor("rule", `rule=${value}`, window);
    expect([counter("a"), counter("b"), counter("c"), counter("a"), counter("d")]).toEqual([
      "rule=a",
      "rule=b",
      "rule|overflow",
      "rule=a",
      "rule|overflow",
    ]);
    // A new window starts with room again.
    expect([counter("c", 60_000), counter("d", 60_000), counter("e", 60_000)]).toEqual([
      "rule=c",
      "rule=d",
      "rule|overflow",
    ]);
  });

  it("are counted per rule", () => {
    const budget = new CounterBudget(1);
    expect(budget.counterFor("one", "one=a", 0)).toBe("one=a");
    expect(budget.counterFor("two", "two=a", 0)).toBe("two=a");
  });
});
