import type { VerifiableKey } from "./verifiable-key.js";

/** What the record alone says of a presented secret. */
export type KeyState = "valid" | "revoked" | "disabled" | "expired";

/**
 * The checks that need nothing but the record, in the fixed order revoked →
 * disabled → expired. `hash` is the hash of the presented secret: a secret
 * replaced by RerollKey counts as revoked once its grace period is over.
 */
export function checkKey(record: VerifiableKey, hash: string, now: number): KeyState {
  if (record.revoked || !secretIsLive(record, hash, now)) return "revoked";
  if (!record.enabled) return "disabled";
  if (isExpired(record, now)) return "expired";
  return "valid";
}

/** Whether the key's expiry has passed. */
export function isExpired(record: Pick<VerifiableKey, "expiresAt">, now: number): boolean {
  return record.expiresAt !== undefined && record.expiresAt.getTime() <= now;
}

function secretIsLive(record: VerifiableKey, hash: string, now: number): boolean {
  if (record.hash === hash) return true;
  const retired = record.retiredSecrets.find((secret) => secret.hash === hash);
  return retired !== undefined && retired.validUntil.getTime() > now;
}
