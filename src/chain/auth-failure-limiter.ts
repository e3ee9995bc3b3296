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
  /** Whether no address has failed lately: the common case, in which the caller's address need not be worked out. */
  readonly idle: boolean;
}

export function createAuthFailureLimiter(failuresPerMinute: number, clock: Clock): AuthFailureLimiter {
  const counter = createFailureCounter(failuresPerMinute, clock);
  return {
    isBlocked: (peer) => !counter.empty && counter.blocked(peerAddress(peer)),
    recordFailure: (peer) => counter.failed(peerAddress(peer)),
    get idle() {
      return counter.empty;
    },
  };
}
