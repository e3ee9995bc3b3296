import { describe, expect, it } from "vitest";
import {
  layerShares,
  parseEnvPairs,
  quantile,
  rowSizes,
  samplesByLabel,
  uniformIndex,
} from "../../bench/scale-figures.js";

const page = `# HELP keyward_cache_lookups_total Key lookups by the layer that answered them.
# TYPE keyward_cache_lookups_total counter
keyward_cache_lookups_total{layer="local"} 90
keyward_cache_lookups_total{layer="shared"} 6
keyward_cache_lookups_total{layer="store"} 4
keyward_cache_lookups_total_other{layer="local"} 1000
keyward_verifications_total{code="VALID"} 100
`;

describe("the figures of npm run bench:scale", () => {
  it("reads one metric's samples by label and leaves other metrics out", () => {
    expect(samplesByLabel(page, "keyward_cache_lookups_total", "layer")).toEqual({ local: 90, shared: 6, store: 4 });
    expect(samplesByLabel(page, "keyward_verifications_total", "layer")).toEqual({});
  });

  it("turns two readings into the share each layer answered in between", () => {
    const before = { local: 10, shared: 1 };
    expect(layerShares(before, { local: 40, shared: 11, store: 10 })).toEqual({ local: 0.6, shared: 0.2, store: 0.2 });
    expect(layerShares(before, before)).toEqual({ local: 0, shared: 0, store: 0 });
  });

  it("draws indices inside [0, n) even at the ends of the random range", () => {
    expect(uniformIndex(10, () => 0)).toBe(0);
    expect(uniformIndex(10, () => 0.999999999)).toBe(9);
    expect(uniformIndex(1, () => 0.5)).toBe(0);
  });

  it("reads quantiles of sorted numbers", () => {
    const sorted = Array.from({ length: 1000 }, (_, i) => i + 1);
    expect([quantile(sorted, 0.5), quantile(sorted, 0.99), quantile(sorted, 1)]).toEqual([501, 991, 1000]);
    expect(quantile([], 0.5)).toBeNaN();
  });

  it("makes the rows 1k, 100k, 1M up to the number of keys, and that number", () => {
    expect(rowSizes(1_000_000)).toEqual([1_000, 100_000, 1_000_000]);
    expect(rowSizes(20_000)).toEqual([1_000, 20_000]);
    expect(rowSizes(500)).toEqual([500]);
  });

  it("reads BENCH_SCALE_ENV and refuses what is not NAME=value", () => {
    expect(parseEnvPairs(" KEYWARD_CACHE_MAX_BYTES=64000000  A=b=c ")).toEqual({
      KEYWARD_CACHE_MAX_BYTES: "64000000",
      A: "b=c",
    });
    expect(parseEnvPairs(undefined)).toEqual({});
    expect(() => parseEnvPairs("nonsense")).toThrow(/NAME=value/);
  });
});
