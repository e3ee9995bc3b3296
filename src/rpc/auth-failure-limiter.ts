import { LRUCache } from "lru-cache";
import type { Clock } from "../keys/clock.js";

/**
 * Counts failed authentications per caller address in fixed one-minute
 * windows. Past the limit, the address is refused until its window ends, so a
 * loop guessing root keys gets RESOURCE_EXHAUSTED instead of answers. Counts
 * live in this process; the map is bounded so a spray of addresses cannot
 * exhaust memory.
 */
export interface AuthFailureLimiter {
  /** Whether the address has used up its failures for the current window. */
  isBlocked(address: string): boolean;
  recordFailure(address: string): void;
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
    isBlocked: (address) => (current(address)?.failures ?? 0) >= failuresPerMinute,
    recordFailure(address) {
      const window = current(address);
      if (window) window.failures += 1;
      else windows.set(address, { start: clock(), failures: 1 });
    },
  };
}
