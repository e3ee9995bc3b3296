import { describe, expect, it } from "vitest";
import { pooledPrng, pooledRandomBytes } from "../../src/keys/random-pool.js";

describe("pooled random bytes", () => {
  it("never hands out the same bytes twice, across refills of the pool", () => {
    const seen = new Set<string>();
    // 16 bytes at a time, well past one 16 KiB pool.
    for (let i = 0; i < 3_000; i++) {
      const hex = Buffer.from(pooledRandomBytes(16)).toString("hex");
      expect(seen.has(hex)).toBe(false);
      seen.add(hex);
    }
  });

  it("answers the size asked for, beyond the pool's size too", () => {
    expect(pooledRandomBytes(32)).toHaveLength(32);
    expect(pooledRandomBytes(40_000)).toHaveLength(40_000);
  });

  it("spreads the prng over [0, 1) in 256 steps", () => {
    const values = Array.from({ length: 5_000 }, pooledPrng);
    expect(values.every((value) => value >= 0 && value < 1 && Number.isInteger(value * 256))).toBe(true);
    // Every one of the 32 ulid characters comes up.
    expect(new Set(values.map((value) => Math.floor(value * 32))).size).toBe(32);
  });
});
