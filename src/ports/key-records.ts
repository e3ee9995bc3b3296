import type { KeyChanges, KeyRecord, UsageCounts } from "../keys/key-record.js";
import type { KeyspaceFilter } from "./keyspace-filter.js";

/** Which keys ListKeys wants; empty fields match everything. */
export interface KeyQuery {
  readonly keyspaces?: KeyspaceFilter;
  readonly ownerId?: string;
  readonly orgId?: string;
  /** Only keys whose id sorts after this one (the page token). */
  readonly afterKeyId?: string;
  readonly limit: number;
}

/** The outcome of spending credits. */
export interface CreditSpend {
  readonly spent: boolean;
  readonly remaining: number;
}

/** UpdateCredits: add to the credits, or set them. */
export type CreditChange = { readonly add: number } | { readonly set: number };

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

/**
 * Where key records live. Adapters translate, they decide nothing: every rule
 * about keys sits in the domain and the services. Each method is atomic on one
 * key; none needs a transaction.
 */
export interface KeyStore {
  /** Stores a new key. */
  insert(record: KeyRecord): Promise<void>;
  /** The key with this id, if any. */
  get(keyId: string): Promise<KeyRecord | undefined>;
  /** The key whose current or retired secret has this hash, if any. */
  findByHash(hash: string): Promise<KeyRecord | undefined>;
  /** Keys matching the query, ordered by key id (creation order). */
  list(query: KeyQuery): Promise<KeyRecord[]>;
  /** Applies the changes to the key and returns it as it is now, or undefined when there is no such key. */
  update(keyId: string, changes: KeyChanges): Promise<KeyRecord | undefined>;
  /**
   * Takes `cost` credits from the key in one atomic step, never going below
   * zero: `spent` says whether it did, `remaining` how many are left. Undefined
   * when the key has no credit limit or does not exist.
   */
  spendCredits(keyId: string, cost: number): Promise<CreditSpend | undefined>;
  /**
   * Sets the credits to `amount` and marks the refill done at `now`, but only
   * if the last refill happened before `periodStart`; so when several
   * replicas see a refill due, exactly one performs it. Answers whether it did.
   */
  refillCredits(keyId: string, amount: number, periodStart: Date, now: Date): Promise<boolean>;
  /** Adds or sets credits of a key with a credit limit; answers the credits now, or undefined when there is no such key or it has no limit. */
  changeCredits(keyId: string, change: CreditChange): Promise<number | undefined>;
  /**
   * Adds usage counts and moves last_used_at forward, in one batch for many
   * keys; an update whose batch id the key has already applied (among its
   * most recent ones) changes nothing.
   */
  recordUsage(updates: readonly UsageUpdate[]): Promise<void>;
  /** Removes the key; answers whether it existed. */
  delete(keyId: string): Promise<boolean>;
}
