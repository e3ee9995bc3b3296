import { LRUCache } from "lru-cache";
import type { Clock } from "../keys/clock.js";
import { peerAddress } from "./peer-address.js";

/**
 * Counts failed authentications per caller IP address in fixed one-minute
 * windows. Past the limit, the address is refused until its window ends, so a
 * loop guessing root keys gets RESOURCE_EXHAUSTED instead of answers. Counts
 * live in this process; the map is bounded so a spray of addresses cannot
 * exhaust memory.
 */
export interface AuthFailureLimiter {
  /** Whether the caller's address has used up its failures for the current window. */
  isBlocked(peer: string): boolean;
  recordFailure(peer: string): void;
}

const WINDOW_MS = 60_000;
const MAX_ADDRESSES = 100_000;

export function createAuthFailureLimiter(failuresPerMinute: number, clock: Clock): AuthFailureLimiter {
  const windows = new LRUCache<string, { start: number; failures: number }>({ max: MAX_ADDRESSES });
  const current = (address: string) => {
    const window = windows.get(address);
    return window && clock() - window.start < WINDOW_MS ? window : undefined;
  };
  return {
    // Nearly always nobody has failed: then there is no address to work out.
    isBlocked: (peer) => windows.size > 0 && (current(peerAddress(peer))?.failures ?? 0) >= failuresPerMinute,
    recordFailure(peer) {
      const address = peerAddress(peer);
      const window = current(address);
      if (window) window.failures += 1;
      else windows.set(address, { start: clock(), failures: 1 });
    },
  };
}
