import type { Clock } from "../../keys/clock.js";
import type { Logger } from "../../observability/logger.js";

/** What a refused value was: a shared-cache entry, or a message on the invalidation channel. */
export type RejectedKind = "cache" | "message";

/** Hears of every value read back from Redis that failed authentication (and was treated as a miss). */
export type RejectionReporter = (kind: RejectedKind) => void;

const LOG_INTERVAL_MS = 60_000;

/**
 * Counts every refusal in a metric, and logs the first one at once and then
 * at most one summary a minute: a flood of forged values must not flood the
 * log. The values themselves are never logged.
 */
export function createRejectionReporter(
  logger: Logger,
  count: (kind: RejectedKind) => void,
  clock: Clock,
): RejectionReporter {
  let unlogged = 0;
  let loggedAt = Number.NEGATIVE_INFINITY;
  return (kind) => {
    count(kind);
    unlogged += 1;
    const now = clock();
    if (now - loggedAt < LOG_INTERVAL_MS) return;
    logger.warn(
      { rejected: unlogged, kind },
      "values read from Redis failed authentication and were ignored (forged, or replicas disagree on KEYWARD_REDIS_SECRET)",
    );
    unlogged = 0;
    loggedAt = now;
  };
}
