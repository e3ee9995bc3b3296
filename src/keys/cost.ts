/**
 * What a verification costs, in credits and against rate limits: a whole
 * number, 0 or more. Stores and limiters check it again whatever the caller
 * did (defence in depth): a negative cost would mint credits or give counters back.
 */
export function assertCost(cost: number): void {
  if (!Number.isSafeInteger(cost) || cost < 0) throw new RangeError(`invalid cost: ${cost}`);
}
