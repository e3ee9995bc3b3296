import type { KeyRecord } from "./key-record.js";

/**
 * What verifying a key reads of its record, and all that the verification
 * caches keep: the checks (revoked, enabled, expiry, secrets), permissions,
 * limits, credits, and the public fields a verification answers with. Fields
 * only management shows (description, usage, who created it, ...) are left
 * out, so a cached copy costs less memory and Redis, and nothing that needs
 * the full record (GetKey, ListKeys, updates) can be handed a cached one: the
 * type lacks those fields.
 */
export type VerifiableKey = Readonly<Pick<KeyRecord, VerifiableField>>;

type VerifiableField =
  | "keyId"
  | "keyspaceId"
  | "hash"
  | "retiredSecrets"
  | "revoked"
  | "enabled"
  | "expiresAt"
  | "name"
  | "ownerId"
  | "orgId"
  | "environment"
  | "meta"
  | "scopes"
  | "roles"
  | "permissions"
  | "ratelimits"
  | "remaining"
  | "refill"
  /** When a key that was never refilled counts its refill periods from. */
  | "createdAt";

/** A copy of just the fields verification reads, from a full record or a view (so no other field is held on to). */
export function verifiableKey(record: VerifiableKey): VerifiableKey {
  return {
    keyId: record.keyId,
    keyspaceId: record.keyspaceId,
    hash: record.hash,
    retiredSecrets: record.retiredSecrets,
    revoked: record.revoked,
    enabled: record.enabled,
    expiresAt: record.expiresAt,
    name: record.name,
    ownerId: record.ownerId,
    orgId: record.orgId,
    environment: record.environment,
    meta: record.meta,
    scopes: record.scopes,
    roles: record.roles,
    permissions: record.permissions,
    ratelimits: record.ratelimits,
    remaining: record.remaining,
    refill: record.refill,
    createdAt: record.createdAt,
  };
}

/**
 * Whether two views say the same, field by field: a key read again unchanged
 * can keep the object already cached, and with it the answers made from it.
 */
export function sameVerifiableKey(a: VerifiableKey, b: VerifiableKey): boolean {
  return (
    a.keyId === b.keyId &&
    a.keyspaceId === b.keyspaceId &&
    a.hash === b.hash &&
    a.revoked === b.revoked &&
    a.enabled === b.enabled &&
    a.name === b.name &&
    a.ownerId === b.ownerId &&
    a.orgId === b.orgId &&
    a.environment === b.environment &&
    a.remaining === b.remaining &&
    sameTime(a.expiresAt, b.expiresAt) &&
    sameTime(a.createdAt, b.createdAt) &&
    sameList(a.scopes, b.scopes, (x, y) => x === y) &&
    sameList(a.roles, b.roles, (x, y) => x === y) &&
    sameList(a.permissions, b.permissions, (x, y) => x === y) &&
    sameList(a.retiredSecrets, b.retiredSecrets, (x, y) => x.hash === y.hash && sameTime(x.validUntil, y.validUntil)) &&
    sameList(
      a.ratelimits,
      b.ratelimits,
      (x, y) => x.name === y.name && x.limit === y.limit && x.durationMs === y.durationMs,
    ) &&
    sameRefill(a.refill, b.refill) &&
    // Field order counts here: a meta written again in another order is a new object, which is only a missed reuse.
    (a.meta === b.meta || JSON.stringify(a.meta) === JSON.stringify(b.meta))
  );
}

function sameTime(a: Date | undefined, b: Date | undefined): boolean {
  return a?.getTime() === b?.getTime();
}

function sameList<T>(a: readonly T[], b: readonly T[], same: (x: T, y: T) => boolean): boolean {
  return a.length === b.length && a.every((item, i) => same(item, b[i] as T));
}

function sameRefill(a: VerifiableKey["refill"], b: VerifiableKey["refill"]): boolean {
  if (!a || !b) return a === b;
  return (
    a.interval === b.interval &&
    a.amount === b.amount &&
    a.refillDay === b.refillDay &&
    sameTime(a.lastRefilledAt, b.lastRefilledAt)
  );
}
