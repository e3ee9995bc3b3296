/** The outcome of spending credits. */
export interface CreditSpend {
  readonly spent: boolean;
  readonly remaining: number;
}

/** UpdateCredits: add to the credits, or set them. */
export type CreditChange = { readonly add: number } | { readonly set: number };

/** A block of a key's credits that one replica (`holder`) may spend on its own until `expiresAt`. */
export interface LeaseRequest {
  /** The replica: one lease per key and holder. */
  readonly holder: string;
  /** This lease's id, new for every lease. */
  readonly leaseId: string;
  /** How many credits to take from the unleased ones. */
  readonly take: number;
  readonly expiresAt: Date;
  /** The holder's current lease, ended in the same step: its unspent credits go back first. */
  readonly previous?: { readonly leaseId: string; readonly unspent: number } | undefined;
  /** Leases of other holders that expired before this are dropped from the key (what they held counts as spent). */
  readonly dropExpiredBefore: Date;
}

/** What a lease request did, and the key's unleased credits after it. */
export interface LeaseOutcome {
  readonly granted: boolean;
  readonly remaining: number;
  /**
   * The previous lease no longer stands (credits were set or refilled since,
   * or it was dropped after it expired): nothing of it went back.
   */
  readonly previousVoid: boolean;
}

/**
 * A key's credits (`remaining`), kept where the key is: every change is one
 * atomic step on one key, so that no two replicas can spend the same credit.
 * The rules (what a verification costs, when a refill is due, how large a
 * lease is) are the domain's; a ledger only applies them atomically.
 *
 * `remaining` counts the credits no replica holds. A replica may lease a
 * block of them (recorded on the key, so the store stays the authority) and
 * spend it without asking the store; it gives back what it did not spend.
 * Setting the credits (changeCredits with `set`, a refill, an update of
 * `remaining`) voids every lease: what they held is not given back.
 */
export interface CreditLedger {
  /**
   * Takes `cost` credits from the key in one atomic step, never going below
   * zero: `spent` says whether it did, `remaining` how many are left. Undefined
   * when the key has no credit limit or does not exist. A cost that is not a
   * whole number of 0 or more is refused (RangeError), whatever the caller checked.
   */
  spendCredits(keyId: string, cost: number): Promise<CreditSpend | undefined>;
  /**
   * Sets the credits to `amount` and records the refill at `now`, unless a
   * refill at or after `periodStart` is already recorded: a compare-and-set,
   * so that when several replicas see a refill due, exactly one performs it.
   * Answers whether this one did. Voids every lease.
   */
  refillCredits(keyId: string, amount: number, periodStart: Date, now: Date): Promise<boolean>;
  /**
   * Adds or sets credits of a key with a credit limit; answers the credits now,
   * or undefined when there is no such key or it has no limit. Setting voids every lease.
   */
  changeCredits(keyId: string, change: CreditChange): Promise<number | undefined>;
  /**
   * In one atomic step: ends the holder's previous lease (its unspent credits
   * back to `remaining`, if it still stands) and takes a new one of `take`
   * credits, if `remaining` then has that many. Nothing changes when it does
   * not (`granted` false; the previous lease still stands unless void).
   * Undefined when the key has no credit limit or does not exist. `take` and
   * `unspent` must be whole numbers of 0 or more (RangeError).
   */
  leaseCredits(keyId: string, request: LeaseRequest): Promise<LeaseOutcome | undefined>;
  /**
   * Ends a lease, giving its `unspent` credits back, if it still stands.
   * Answers whether it did (false: void or unknown, nothing changed).
   */
  returnCredits(keyId: string, holder: string, leaseId: string, unspent: number): Promise<boolean>;
}
