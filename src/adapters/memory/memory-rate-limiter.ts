import { LRUCache } from "lru-cache";
import type { RateLimiter } from "../../ports/rate-limiter.js";
import { assertCosts, decide, type LimitRequest, type LimitResult, windowOf } from "../../ratelimit/limits.js";

const MAX_COUNTERS = 100_000;

/**
 * Rate limits counted in this process: for dev mode, and as the fallback when
 * Redis cannot be reached (then each replica counts on its own). Counters are
 * bounded; the least recently used are dropped first.
 */
export class MemoryRateLimiter implements RateLimiter {
  private readonly counters = new LRUCache<string, { windowStart: number; count: number }>({ max: MAX_COUNTERS });

  async consume(subject: string, limits: readonly LimitRequest[], now: number): Promise<LimitResult[]> {
    assertCosts(limits);
    const keys = limits.map((limit) => `${subject}:${limit.name}:${limit.durationMs}`);
    const counts = limits.map((limit, i) => {
      const counter = this.counters.get(keys[i] as string);
      return counter?.windowStart === windowOf(now, limit.durationMs).start ? counter.count : 0;
    });
    const { admitted, results } = decide(limits, counts, now);
    if (admitted) {
      limits.forEach((limit, i) => {
        const windowStart = windowOf(now, limit.durationMs).start;
        this.counters.set(keys[i] as string, { windowStart, count: (counts[i] ?? 0) + limit.cost });
      });
    }
    return results;
  }
}
