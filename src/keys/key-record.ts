/** JSON that a caller attaches to a key (the seeds' meta and claims). */
export type JsonObject = { [key: string]: JsonValue };
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;

/** At most `limit` verifications per `durationMs`. */
export interface RatelimitPolicy {
  readonly name: string;
  readonly limit: number;
  readonly durationMs: number;
}

/** How `remaining` is topped up. `refillDay` is the day of the month for monthly refills. */
export interface RefillPolicy {
  readonly interval: "daily" | "monthly";
  readonly amount: number;
  readonly refillDay: number;
  readonly lastRefilledAt?: Date | undefined;
}

/** How verifications of a key ended, counted by outcome (NOT_FOUND has no key to count on). */
export type UsageOutcome =
  | "valid"
  | "revoked"
  | "disabled"
  | "expired"
  | "insufficientPermissions"
  | "rateLimited"
  | "usageExceeded";
export type UsageCounts = { [Outcome in UsageOutcome]?: number | undefined };

/** A secret replaced by RerollKey that still works until `validUntil`. */
export interface RetiredSecret {
  readonly hash: string;
  readonly validUntil: Date;
}

/** What a caller may change on an existing key (UpdateKey). */
export interface KeySettings {
  name: string;
  description: string;
  ownerId: string;
  orgId: string;
  environment: string;
  enabled: boolean;
  expiresAt?: Date | undefined;
  meta?: JsonObject | undefined;
  scopes: string[];
  roles: string[];
  permissions: string[];
  remaining?: number | undefined;
  refill?: RefillPolicy | undefined;
  ratelimits: RatelimitPolicy[];
}

/** Everything Keyward stores about a key. The secret itself is only ever held as `hash`. */
export interface KeyRecord extends KeySettings {
  keyId: string;
  keyspaceId: string;
  hash: string;
  retiredSecrets: RetiredSecret[];
  prefix: string;
  byteLength: number;
  start: string;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
  lastUsedAt?: Date | undefined;
  usage?: UsageCounts | undefined;
  revoked: boolean;
  revokedAt?: Date | undefined;
  revocationReason: string;
}

/**
 * The fields one update may set. A field present with the value `undefined`
 * is cleared; a field that is absent keeps its value.
 */
export type KeyChanges = Partial<
  KeySettings &
    Pick<KeyRecord, "hash" | "start" | "retiredSecrets" | "revoked" | "revokedAt" | "revocationReason" | "updatedAt">
>;

/** Every hash a key's secrets have: the current one and those of retired secrets. */
export function secretHashes(record: Pick<KeyRecord, "hash" | "retiredSecrets">): string[] {
  return [record.hash, ...record.retiredSecrets.map((secret) => secret.hash)];
}
