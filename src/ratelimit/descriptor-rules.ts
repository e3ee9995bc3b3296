/**
 * Rate-limit descriptors as Envoy's rate-limit filter sends them, matched
 * against rules in the format of envoyproxy/ratelimit: a tree of
 * `key` (and optional `value`) nodes, each with an optional `rate_limit`.
 */

export type RateUnit = "second" | "minute" | "hour" | "day" | "month" | "year";

/** Fixed windows of these lengths; a month counts as 30 days and a year as 365. */
export const UNIT_MS: Record<RateUnit, number> = {
  second: 1_000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  month: 30 * 86_400_000,
  year: 365 * 86_400_000,
};

/** The entry key that names a Keyward key: with no rate_limit of its own, the key's own limits apply. */
export const KEY_ID_ENTRY = "x-keyward-key-id";

export interface DescriptorRule {
  readonly key: string;
  /** Absent: any value matches, and each value is counted on its own. */
  readonly value?: string | undefined;
  readonly rateLimit?: { readonly requestsPerUnit: number; readonly unit: RateUnit } | undefined;
  readonly shadowMode: boolean;
  readonly descriptors: readonly DescriptorRule[];
}

export interface DescriptorConfig {
  readonly domain: string;
  readonly descriptors: readonly DescriptorRule[];
}

export interface DescriptorEntry {
  readonly key: string;
  readonly value: string;
}

/** What one descriptor is counted against. */
export type DescriptorMatch =
  | { readonly kind: "unlimited" }
  | {
      readonly kind: "limit";
      /** Names the counter: the domain and every entry, values included. */
      readonly counter: string;
      /** Names the rule: as `counter`, but `*` for values the rule leaves open (each makes a counter of its own). */
      readonly rule: string;
      readonly requestsPerUnit: number;
      readonly unit: RateUnit;
      readonly shadowMode: boolean;
    }
  | { readonly kind: "key"; readonly keyId: string; readonly shadowMode: boolean };

/**
 * Walks the rules entry by entry, preferring a rule with the entry's exact
 * value over one without a value. The deepest rule reached decides: its limit,
 * or for a key-id entry without a limit, the key's own limits. An entry no
 * rule knows, or a last rule without a limit, leaves the descriptor unlimited.
 */
export function matchDescriptor(config: DescriptorConfig, entries: readonly DescriptorEntry[]): DescriptorMatch {
  let rules = config.descriptors;
  let matched: DescriptorRule | undefined;
  const rulePath: string[] = [];
  for (const entry of entries) {
    matched =
      rules.find((rule) => rule.key === entry.key && rule.value === entry.value) ??
      rules.find((rule) => rule.key === entry.key && rule.value === undefined);
    if (!matched) return { kind: "unlimited" };
    rulePath.push(`${entry.key}=${matched.value === undefined ? "*" : entry.value}`);
    rules = matched.descriptors;
  }
  const last = entries.at(-1);
  if (!matched || !last) return { kind: "unlimited" };
  if (matched.rateLimit) {
    const path = entries.map((entry) => `${entry.key}=${entry.value}`).join("|");
    return {
      kind: "limit",
      counter: `${config.domain}|${path}`,
      rule: `${config.domain}|${rulePath.join("|")}`,
      ...matched.rateLimit,
      shadowMode: matched.shadowMode,
    };
  }
  if (last.key === KEY_ID_ENTRY) return { kind: "key", keyId: last.value, shadowMode: matched.shadowMode };
  return { kind: "unlimited" };
}
