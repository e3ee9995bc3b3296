import { LRUCache } from "lru-cache";
import type { Clock } from "../keys/clock.js";

/**
 * Failures per address in fixed one-minute windows: the first failure opens
 * the address's window, later ones count in it; past the limit the address is
 * blocked until the window ends.
 * Counts live in this process; at most MAX_ADDRESSES are kept, the least
 * recently used dropped first, so a spray of addresses cannot exhaust memory.
 */
export interface FailureCounter {
  /** Whether the address has used up its failures for the current window. */
  blocked(address: string): boolean;
  failed(address: string): void;
  /** Whether no address has a failure counted: the common case, which needs no address worked out. */
  readonly empty: boolean;
}

/** How long a failure counts. */
export const FAILURE_WINDOW_MS = 60_000;
const MAX_ADDRESSES = 100_000;

export function createFailureCounter(failuresPerMinute: number, clock: Clock): FailureCounter {
  // The time-to-live drops ended windows by itself; whether a window still runs is decided exactly, by its start.
  const windows = new LRUCache<string, { start: number; failures: number }>({
    max: MAX_ADDRESSES,
    ttl: FAILURE_WINDOW_MS,
    perf: { now: clock },
  });
  const current = (address: string) => {
    const window = windows.get(address);
    return window && clock() - window.start < FAILURE_WINDOW_MS ? window : undefined;
  };
  return {
    blocked: (address) => (current(address)?.failures ?? 0) >= failuresPerMinute,
    failed(address) {
      const window = current(address);
      if (window) window.failures += 1;
      else windows.set(address, { start: clock(), failures: 1 });
    },
    get empty() {
      return windows.size === 0;
    },
  };
}
