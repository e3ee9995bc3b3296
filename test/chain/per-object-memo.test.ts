import { describe, expect, it } from "vitest";
import { PerObjectMemo } from "../../src/chain/per-object-memo.js";

describe("PerObjectMemo", () => {
  it("makes a value once per object and key, and apart for other objects and keys", () => {
    const memo = new PerObjectMemo<object, string, { made: number }>();
    let made = 0;
    const make = () => ({ made: ++made });
    const [first, second] = [{}, {}];
    const value = memo.get(first, "a", make);
    expect(memo.get(first, "a", make)).toBe(value);
    expect(memo.get(first, "b", make)).not.toBe(value);
    expect(memo.get(second, "a", make)).not.toBe(value);
    expect(made).toBe(3);
  });
});
