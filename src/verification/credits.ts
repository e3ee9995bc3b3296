import { refillDue } from "../keys/refill.js";
import type { VerifiableKey } from "../keys/verifiable-key.js";
import type { CreditLedger } from "../ports/credit-ledger.js";

/**
 * Performs the refill a key is owed, if any, before its credits are spent or
 * changed: once per period, whichever replica or call gets there first.
 * Answers whether this call performed it.
 */
export async function applyDueRefill(
  keys: Pick<CreditLedger, "refillCredits">,
  record: VerifiableKey,
  now: number,
): Promise<boolean> {
  const periodStart = refillDue(record, now);
  if (!periodStart || !record.refill) return false;
  return keys.refillCredits(record.keyId, record.refill.amount, periodStart, new Date(now));
}

/** What spending a verification's credits came to: whether it could, and how many are left as far as this replica knows. */
export interface CreditSpendOutcome {
  readonly spent: boolean;
  readonly remaining: number;
}

/**
 * Spends the credits of a key with a credit limit, after any refill it is
 * owed. Implemented by the replica's credit leases (src/credits), or straight
 * against the ledger (`directCredits`).
 */
export interface CreditSpender {
  spend(record: VerifiableKey, cost: number, now: number): Promise<CreditSpendOutcome>;
}

/** One conditional write per verification: the ledger's spendCredits, after any due refill. */
export function directCredits(keys: Pick<CreditLedger, "spendCredits" | "refillCredits">): CreditSpender {
  return {
    async spend(record, cost, now) {
      await applyDueRefill(keys, record, now);
      const spend = await keys.spendCredits(record.keyId, cost);
      return { spent: spend?.spent ?? false, remaining: spend?.remaining ?? 0 };
    },
  };
}
