import type { UsageCounts } from "../keys/key-record.js";

/**
 * How many of its latest usage batch ids a key remembers. A retried batch
 * counts once as long as fewer than this many other batches (from any
 * replica) reached the key between the failed attempt and the retry; the
 * recorder retries at its next interval.
 */
export const USAGE_BATCHES_REMEMBERED = 16;

/** Verifications of one key since the last write-back. */
export interface UsageUpdate {
  readonly keyId: string;
  /**
   * The write-back this update belongs to. A key applies each batch id once,
   * so a batch retried after a failure that left it unclear which part was
   * applied never counts twice.
   */
  readonly batchId: string;
  readonly counts: UsageCounts;
  /** The latest successful verification among them, if any. */
  readonly lastUsedAt?: Date;
}

/** Where usage counts end up: written back in batches, never one write per verification. */
export interface UsageSink {
  /**
   * Adds usage counts and moves last_used_at forward, in one batch for many
   * keys; an update whose batch id the key has already applied (among its
   * most recent ones) changes nothing.
   */
  recordUsage(updates: readonly UsageUpdate[]): Promise<void>;
}
