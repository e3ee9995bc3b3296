import { LRUCache } from "lru-cache";
import type { Clock } from "../keys/clock.js";

/**
 * Counts verifications that found no key, per client address in fixed
 * one-minute windows; past the limit, the address gets no answers until its
 * window ends. Without a root key (KEYWARD_VERIFY_AUTH=none) and behind Envoy,
 * nothing else stops a loop from using verification as an oracle for guesses.
 * Counts live in this process; the map is bounded.
 */
export interface FailureThrottle {
  /** Whether the address has used up its failures for the current window. */
  blocked(address: string): boolean;
  failed(address: string): void;
}

const WINDOW_MS = 60_000;
const MAX_ADDRESSES = 100_000;

export function createFailureThrottle(failuresPerMinute: number, clock: Clock): FailureThrottle {
  const windows = new LRUCache<string, { start: number; failures: number }>({ max: MAX_ADDRESSES });
  const current = (address: string) => {
    const window = windows.get(address);
    return window && clock() - window.start < WINDOW_MS ? window : undefined;
  };
  return {
    // Nearly always nobody has failed: then there is nothing to look up.
    blocked: (address) => windows.size > 0 && (current(address)?.failures ?? 0) >= failuresPerMinute,
    failed(address) {
      const window = current(address);
      if (window) window.failures += 1;
      else windows.set(address, { start: clock(), failures: 1 });
    },
  };
}
