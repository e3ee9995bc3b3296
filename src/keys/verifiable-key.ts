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
