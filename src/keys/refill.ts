import type { RefillPolicy } from "./key-record.js";
import type { VerifiableKey } from "./verifiable-key.js";

/** What refills are worked out from. */
type Credited = Pick<VerifiableKey, "refill" | "remaining" | "createdAt">;

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * When the refill period containing `now` began (UTC): midnight for daily
 * refills; for monthly ones, midnight of the refill day (1-31, 0 meaning the
 * 1st), which in a shorter month falls on its last day.
 */
export function refillPeriodStart(policy: RefillPolicy, now: number): number {
  if (policy.interval === "daily") return Math.floor(now / DAY_MS) * DAY_MS;
  const date = new Date(now);
  const inMonth = (year: number, month: number) => {
    const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
    return Date.UTC(year, month, Math.min(Math.max(policy.refillDay, 1), lastDay));
  };
  const thisMonth = inMonth(date.getUTCFullYear(), date.getUTCMonth());
  return thisMonth <= now ? thisMonth : inMonth(date.getUTCFullYear(), date.getUTCMonth() - 1);
}

/**
 * The start of the refill period the key is owed a refill for, or undefined
 * when it has had it. A key that was never refilled counts from its creation,
 * so a key created mid-period keeps the credits it was created with.
 */
export function refillDue(record: Credited, now: number): Date | undefined {
  if (!record.refill || record.remaining === undefined) return undefined;
  const periodStart = refillPeriodStart(record.refill, now);
  const last = (record.refill.lastRefilledAt ?? record.createdAt).getTime();
  return last < periodStart ? new Date(periodStart) : undefined;
}

/** The credits a key has at `now`: its count, or the refill amount once a refill is due. */
export function creditsAt(record: Credited, now: number): number | undefined {
  return record.refill && refillDue(record, now) ? record.refill.amount : record.remaining;
}

/** When the refill period after the one containing `now` begins: the next refill. */
export function nextRefillAt(policy: RefillPolicy, now: number): number {
  if (policy.interval === "daily") return refillPeriodStart(policy, now) + DAY_MS;
  // The first instant whose period start differs: a month and some days on at most; step by days.
  const current = refillPeriodStart(policy, now);
  let probe = current + 28 * DAY_MS;
  while (refillPeriodStart(policy, probe) === current) probe += DAY_MS;
  return refillPeriodStart(policy, probe);
}
