import { LRUCache } from "lru-cache";

/** The counters one rule has created in one window. */
interface RuleWindow {
  readonly start: number;
  readonly counters: Set<string>;
}

/** Rules (per caller) whose windows are remembered; each holds at most `maxPerRule` names. */
const MAX_RULES = 10_000;

/**
 * Bounds the counters one rule may create per window. A rule without a value
 * (`remote_address`, say) counts each value apart, so whoever chooses the
 * values chooses how many counters Redis holds: past the bound, every further
 * value of the rule in that window shares one overflow counter (so a spray of
 * values is held to the rule's limit together, and memory stays bounded).
 * Counted in this process: with N replicas, up to N times the bound in all.
 */
export class CounterBudget {
  private readonly windows = new LRUCache<string, RuleWindow>({ max: MAX_RULES });

  constructor(private readonly maxPerRule: number) {}

  /** The counter to count `counter` on in the window starting at `windowStart`: its own, or the rule's overflow. */
  counterFor(rule: string, counter: string, windowStart: number): string {
    let window = this.windows.get(rule);
    if (!window || window.start !== windowStart) {
      window = { start: windowStart, counters: new Set() };
      this.windows.set(rule, window);
    }
    if (window.counters.has(counter)) return counter;
    if (window.counters.size >= this.maxPerRule) return `${rule}|overflow`;
    window.counters.add(counter);
    return counter;
  }
}
