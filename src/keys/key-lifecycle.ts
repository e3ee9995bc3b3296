import type { KeyChanges, KeyRecord, RetiredSecret } from "./key-record.js";

/** How long a replaced secret is remembered after its grace period, so that it answers REVOKED rather than NOT_FOUND. */
export const RETIRED_SECRET_MEMORY_MS = 30 * 24 * 60 * 60 * 1000;

/** The changes that revoke a key. Revoking twice keeps the first revocation. */
export function revocation(record: KeyRecord, reason: string, now: number): KeyChanges | undefined {
  if (record.revoked) return undefined;
  const at = new Date(now);
  return { revoked: true, revokedAt: at, revocationReason: reason, updatedAt: at };
}

/**
 * The changes that give a key a new secret. The old secret keeps working for
 * `graceMs` (0: not at all); secrets retired long ago are forgotten.
 */
export function reroll(
  record: KeyRecord,
  secret: { hash: string; start: string },
  graceMs: number,
  now: number,
): KeyChanges {
  const remembered = record.retiredSecrets.filter(
    (retired) => retired.validUntil.getTime() + RETIRED_SECRET_MEMORY_MS > now,
  );
  const retiring: RetiredSecret = { hash: record.hash, validUntil: new Date(now + graceMs) };
  return { ...secret, retiredSecrets: [...remembered, retiring], updatedAt: new Date(now) };
}
