import type { KeyRecord } from "../keys/key-record.js";
import { refillDue } from "../keys/refill.js";
import type { KeyStore } from "../store/key-store.js";

/**
 * Performs the refill a key is owed, if any, before its credits are spent or
 * changed: once per period, whichever replica or call gets there first.
 */
export async function applyDueRefill(keys: KeyStore, record: KeyRecord, now: number): Promise<void> {
  const periodStart = refillDue(record, now);
  if (periodStart && record.refill) {
    await keys.refillCredits(record.keyId, record.refill.amount, periodStart, new Date(now));
  }
}
