import type { LimitRequest, LimitResult } from "../ratelimit/limits.js";

/**
 * Counts verifications against rate limits. `consume` is atomic across all the
 * limits it is given: either every limit admits the cost and each counts it,
 * or none does and the verification is refused.
 */
export interface RateLimiter {
  /** `subject` names whose counters these are (a key id). */
  consume(subject: string, limits: readonly LimitRequest[], now: number): Promise<LimitResult[]>;
}
