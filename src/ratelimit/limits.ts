import { assertCost } from "../keys/cost.js";
import type { RatelimitPolicy } from "../keys/key-record.js";

/** One limit to count a verification against. */
export interface LimitRequest {
  readonly name: string;
  readonly limit: number;
  readonly durationMs: number;
  readonly cost: number;
}

/** Where one limit stands after the verification was counted (or refused). */
export interface LimitResult {
  readonly name: string;
  readonly limit: number;
  readonly remaining: number;
  /** When the current window ends (epoch ms). */
  readonly resetAt: number;
  readonly exceeded: boolean;
}

/** A per-request change to one named limit (VerifyKeyRequest.ratelimits). */
export interface LimitOverride {
  readonly name: string;
  readonly cost?: number | undefined;
  readonly limit?: number | undefined;
  readonly durationMs?: number | undefined;
}

/**
 * The limits one verification counts against: the key's own, changed by the
 * request's overrides (the last one of a name counts), plus limits the request
 * names that the key lacks when they come with both a limit and a duration.
 */
export function limitsFor(
  policies: readonly RatelimitPolicy[],
  overrides: readonly LimitOverride[],
  cost: number,
): LimitRequest[] {
  if (policies.length === 0 && overrides.length === 0) return [];
  const byName = new Map(overrides.map((override) => [override.name, override]));
  const limits = policies.map((policy) => {
    const override = byName.get(policy.name);
    return {
      name: policy.name,
      limit: override?.limit ?? policy.limit,
      durationMs: override?.durationMs ?? policy.durationMs,
      cost: override?.cost ?? cost,
    };
  });
  for (const override of byName.values()) {
    if (policies.some((policy) => policy.name === override.name)) continue;
    if (override.limit === undefined || override.durationMs === undefined) continue;
    limits.push({
      name: override.name,
      limit: override.limit,
      durationMs: override.durationMs,
      cost: override.cost ?? cost,
    });
  }
  return limits;
}

/** Refuses a cost that is negative, fractional or not a number, whatever the caller checked. */
export function assertCosts(limits: readonly LimitRequest[]): void {
  for (const limit of limits) assertCost(limit.cost);
}

/**
 * Fixed windows aligned to the epoch: a limit of L per duration T admits at
 * most L in each window [kT, (k+1)T). See docs/rate-limits.md for why.
 */
export function windowOf(now: number, durationMs: number): { start: number; end: number } {
  const start = Math.floor(now / durationMs) * durationMs;
  return { start, end: start + durationMs };
}

/**
 * The decision, given what each window has already admitted: all limits admit
 * the cost, or none counts it. Shared by every limiter so they decide alike.
 */
export function decide(
  limits: readonly LimitRequest[],
  counts: readonly number[],
  now: number,
): { admitted: boolean; results: LimitResult[] } {
  const fits = limits.map((limit, i) => (counts[i] ?? 0) + limit.cost <= limit.limit);
  const admitted = fits.every(Boolean);
  const results = limits.map((limit, i) => {
    const used = (counts[i] ?? 0) + (admitted ? limit.cost : 0);
    return {
      name: limit.name,
      limit: limit.limit,
      remaining: Math.max(0, limit.limit - used),
      resetAt: windowOf(now, limit.durationMs).end,
      exceeded: !fits[i],
    };
  });
  return { admitted, results };
}
