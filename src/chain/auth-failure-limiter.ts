import type { Clock } from "../keys/clock.js";
import { createFailureCounter } from "../ratelimit/failure-counter.js";
import { peerAddress } from "./peer-address.js";

/**
 * Counts failed authentications per caller IP address in fixed one-minute
 * windows. Past the limit, the address is refused until its window ends, so a
 * loop guessing root keys gets RESOURCE_EXHAUSTED instead of answers.
 */
export interface AuthFailureLimiter {
  /** Whether the caller's address has used up its failures for the current window. */
  isBlocked(peer: string): boolean;
  recordFailure(peer: string): void;
}

export function createAuthFailureLimiter(failuresPerMinute: number, clock: Clock): AuthFailureLimiter {
  const counter = createFailureCounter(failuresPerMinute, clock);
  return {
    // Nearly always nobody has failed: then there is no address to work out.
    isBlocked: (peer) => !counter.empty && counter.blocked(peerAddress(peer)),
    recordFailure: (peer) => counter.failed(peerAddress(peer)),
  };
}
