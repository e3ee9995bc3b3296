import { monotonicFactory } from "ulid";
import type { Clock } from "./clock.js";
import { pooledPrng } from "./random-pool.js";

/** Key ids are "key_" and a ULID: unique, unguessable enough for ids, and sorted by creation time. */
export const KEY_ID_PATTERN = /^key_[0-9A-HJKMNP-TV-Z]{26}$/;

/** Makes key ids from the given clock. */
export function createKeyIdFactory(clock: Clock): () => string {
  const next = monotonicFactory(pooledPrng);
  return () => `key_${next(clock())}`;
}
