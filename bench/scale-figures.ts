/**
 * The arithmetic of `npm run bench:scale`, apart from its I/O so that it can
 * be tested: reading counters from a Prometheus text page, turning two
 * readings into per-layer shares, and drawing keys uniformly.
 */

/** The layers `keyward_cache_lookups_total` counts, in the order a lookup tries them. */
export const LAYERS = ["local", "shared", "store"] as const;
export type Layer = (typeof LAYERS)[number];

/**
 * Every sample of one metric on a Prometheus text page, by the value of one
 * of its labels: `keyward_cache_lookups_total{layer="local"} 12` gives
 * `{ local: 12 }`. Samples without that label are left out.
 */
export function samplesByLabel(page: string, metric: string, label: string): Record<string, number> {
  const samples: Record<string, number> = {};
  for (const line of page.split("\n")) {
    if (!line.startsWith(`${metric}{`)) continue;
    const labels = line.slice(metric.length + 1, line.indexOf("}"));
    const value = labels.match(new RegExp(`(?:^|,)${label}="([^"]*)"`))?.[1];
    if (value === undefined) continue;
    samples[value] = (samples[value] ?? 0) + Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return samples;
}

/** What each layer answered between two readings of the counter, as a share of all lookups then (0 when none). */
export function layerShares(before: Record<string, number>, after: Record<string, number>): Record<Layer, number> {
  const delta = Object.fromEntries(LAYERS.map((layer) => [layer, (after[layer] ?? 0) - (before[layer] ?? 0)]));
  const total = LAYERS.reduce((sum, layer) => sum + (delta[layer] as number), 0);
  return Object.fromEntries(
    LAYERS.map((layer) => [layer, total === 0 ? 0 : (delta[layer] as number) / total]),
  ) as Record<Layer, number>;
}

/** A whole number in [0, n), uniformly (n ≤ 2^32). */
export function uniformIndex(n: number, random: () => number = Math.random): number {
  return Math.min(n - 1, Math.floor(random() * n));
}

/** The value at quantile `q` (0–1) of numbers sorted ascending; NaN when there are none. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

/** The rows of the table: each of 1k, 100k and 1M not above the number of keys, and that number itself. */
export function rowSizes(keys: number, wanted: readonly number[] = [1_000, 100_000, 1_000_000]): number[] {
  return [...new Set([...wanted.filter((size) => size < keys), keys])].sort((a, b) => a - b);
}

/** `BENCH_SCALE_ENV`: `NAME=value` pairs separated by spaces, for the server's environment. */
export function parseEnvPairs(text: string | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of (text ?? "").split(/\s+/).filter(Boolean)) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new Error(`BENCH_SCALE_ENV: "${pair}" is not NAME=value`);
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return env;
}
