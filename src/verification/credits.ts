import { nextRefillAt, refillDue } from "../keys/refill.js";
import type { VerifiableKey } from "../keys/verifiable-key.js";
import type { CreditLedger } from "../ports/credit-ledger.js";

/**
 * Performs the refill a key is owed, if any, before its credits are spent or
 * changed: once per period, whichever replica or call gets there first.
 */
export async function applyDueRefill(
  keys: Pick<CreditLedger, "refillCredits">,
  record: VerifiableKey,
  now: number,
): Promise<void> {
  const periodStart = refillDue(record, now);
  if (periodStart && record.refill) {
    await keys.refillCredits(record.keyId, record.refill.amount, periodStart, new Date(now));
  }
}

/** Takes `cost` credits from a key with a credit limit (after any due refill): whether it could, and what is left. */
export async function spendCredits(
  keys: Pick<CreditLedger, "spendCredits" | "refillCredits">,
  record: VerifiableKey,
  cost: number,
  now: number,
): Promise<{ spent: boolean; remaining: number; refillAt?: number | undefined }> {
  await applyDueRefill(keys, record, now);
  const spend = await keys.spendCredits(record.keyId, cost);
  return {
    spent: spend?.spent ?? false,
    remaining: spend?.remaining ?? 0,
    refillAt: record.refill && nextRefillAt(record.refill, now),
  };
}
