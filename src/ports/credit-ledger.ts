/** The outcome of spending credits. */
export interface CreditSpend {
  readonly spent: boolean;
  readonly remaining: number;
}

/** UpdateCredits: add to the credits, or set them. */
export type CreditChange = { readonly add: number } | { readonly set: number };

/**
 * A key's credits (`remaining`), kept where the key is: every change is one
 * atomic step on one key, so that no two replicas can spend the same credit.
 * The rules (what a verification costs, when a refill is due) are the
 * domain's; a ledger only applies them atomically.
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
   * Answers whether this one did.
   */
  refillCredits(keyId: string, amount: number, periodStart: Date, now: Date): Promise<boolean>;
  /** Adds or sets credits of a key with a credit limit; answers the credits now, or undefined when there is no such key or it has no limit. */
  changeCredits(keyId: string, change: CreditChange): Promise<number | undefined>;
}
