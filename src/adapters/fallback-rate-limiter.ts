import type { Logger } from "../observability/logger.js";
import type { RateLimiter } from "../ports/rate-limiter.js";
import { StoreUnavailableError } from "../ports/store-errors.js";

/** What to do with rate limits while Redis cannot be reached. */
export type RatelimitFallback = "local" | "deny";

/**
 * Counts in Redis, and when Redis fails: "local" counts in this process
 * instead (each replica then admits up to the full limit on its own), "deny"
 * fails the verification as UNAVAILABLE. Logs one line per outage.
 */
export function withFallback(
  shared: RateLimiter,
  local: RateLimiter,
  fallback: RatelimitFallback,
  logger: Logger,
): RateLimiter {
  let degraded = false;
  return {
    async consume(subject, limits, now) {
      try {
        const results = await shared.consume(subject, limits, now);
        if (degraded) logger.info("rate limits are counted in Redis again");
        degraded = false;
        return results;
      } catch (error) {
        if (!(error instanceof StoreUnavailableError)) throw error;
        if (!degraded) logger.warn({ err: error, fallback }, "Redis unavailable for rate limits");
        degraded = true;
        if (fallback === "deny") throw error;
        return local.consume(subject, limits, now);
      }
    },
  };
}
