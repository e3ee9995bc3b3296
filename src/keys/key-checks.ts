import { VerifyCode } from "../../gen/keyward/v1/key_pb.js";
import type { KeyRecord } from "./key-record.js";

/**
 * The checks that need nothing but the record, in the fixed order revoked →
 * disabled → expired. `hash` is the hash of the presented secret: a secret
 * replaced by RerollKey counts as revoked once its grace period is over.
 */
export function checkKey(record: KeyRecord, hash: string, now: number): VerifyCode {
  if (record.revoked || !secretIsLive(record, hash, now)) return VerifyCode.REVOKED;
  if (!record.enabled) return VerifyCode.DISABLED;
  if (isExpired(record, now)) return VerifyCode.EXPIRED;
  return VerifyCode.VALID;
}

/** Whether the key's expiry has passed. */
export function isExpired(record: KeyRecord, now: number): boolean {
  return record.expiresAt !== undefined && record.expiresAt.getTime() <= now;
}

function secretIsLive(record: KeyRecord, hash: string, now: number): boolean {
  if (record.hash === hash) return true;
  const retired = record.retiredSecrets.find((secret) => secret.hash === hash);
  return retired !== undefined && retired.validUntil.getTime() > now;
}
