import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  durationFromMs,
  durationMs,
  type Timestamp,
  timestampDate,
  timestampFromDate,
  timestampFromMs,
} from "@bufbuild/protobuf/wkt";
import {
  type Key,
  KeySchema,
  type Ratelimit,
  RatelimitSchema,
  type Refill,
  RefillInterval,
  RefillSchema,
  VerifyCode,
} from "../../gen/keyward/v1/key_pb.js";
import {
  type CreateKeyRequest,
  type RatelimitOverride,
  type UpdateKeyRequest,
  UpdateKeyRequestSchema,
  type VerifyKeyResponseSchema,
} from "../../gen/keyward/v1/key_service_pb.js";
import { isExpired } from "../keys/key-checks.js";
import type { KeyChanges, KeyRecord, KeySettings, RatelimitPolicy, RefillPolicy } from "../keys/key-record.js";
import { creditsAt } from "../keys/refill.js";
import type { VerifiableKey } from "../keys/verifiable-key.js";
import type { LimitOverride, LimitResult } from "../ratelimit/limits.js";
import { applyUpdateMask } from "./update-mask.js";

/** Translations between the API's messages and the domain's records. No rules live here. */

/** A key's public record as the API shows it at `now`. */
export function toKeyMessage(record: KeyRecord, now: number): Key {
  return create(KeySchema, {
    keyId: record.keyId,
    keyspaceId: record.keyspaceId,
    name: record.name,
    description: record.description,
    ownerId: record.ownerId,
    orgId: record.orgId,
    environment: record.environment,
    prefix: record.prefix,
    byteLength: record.byteLength,
    start: record.start,
    enabled: record.enabled,
    expiresAt: toTimestamp(record.expiresAt),
    expired: isExpired(record, now),
    meta: record.meta,
    scopes: record.scopes,
    roles: record.roles,
    permissions: record.permissions,
    createdBy: record.createdBy,
    createdAt: toTimestamp(record.createdAt),
    updatedAt: toTimestamp(record.updatedAt),
    lastUsedAt: toTimestamp(record.lastUsedAt),
    revoked: record.revoked,
    revokedAt: toTimestamp(record.revokedAt),
    revocationReason: record.revocationReason,
    remaining: toOptionalBigInt(creditsAt(record, now)),
    refill: record.refill && toRefillMessage(record.refill),
    ratelimits: record.ratelimits.map(toRatelimitMessage),
    usage: Object.fromEntries(
      Object.entries(record.usage ?? {}).map(([outcome, count]) => [outcome, BigInt(count ?? 0)]),
    ),
  });
}

/** VerifyKey's answer: the outcome and the key's public fields. */
export function toVerifyAnswer(
  record: VerifiableKey,
  code: VerifyCode,
  credits: { readonly remaining: number; readonly refillAt?: number | undefined } | undefined,
  ratelimits: readonly LimitResult[],
): MessageInitShape<typeof VerifyKeyResponseSchema> {
  return {
    valid: code === VerifyCode.VALID,
    code,
    keyId: record.keyId,
    keyspaceId: record.keyspaceId,
    name: record.name,
    ownerId: record.ownerId,
    orgId: record.orgId,
    environment: record.environment,
    meta: record.meta,
    scopes: record.scopes,
    roles: record.roles,
    permissions: record.permissions,
    expiresAt: toTimestamp(record.expiresAt),
    enabled: record.enabled,
    remaining: credits && BigInt(credits.remaining),
    refillAt: credits?.refillAt === undefined ? undefined : timestampFromMs(credits.refillAt),
    ratelimits: ratelimits.map((result) => ({
      name: result.name,
      limit: BigInt(result.limit),
      remaining: BigInt(result.remaining),
      resetAt: timestampFromMs(result.resetAt),
      exceeded: result.exceeded,
    })),
  };
}

/** The request's rate limit overrides, in the domain's terms. */
export function fromOverrides(overrides: readonly RatelimitOverride[]): LimitOverride[] {
  return overrides.map((override) => ({
    name: override.name,
    cost: override.cost,
    limit: override.limit === undefined ? undefined : Number(override.limit),
    durationMs: override.duration && durationMs(override.duration),
  }));
}

type SettingsSource = Pick<
  CreateKeyRequest,
  | "name"
  | "description"
  | "ownerId"
  | "orgId"
  | "environment"
  | "expiresAt"
  | "meta"
  | "scopes"
  | "roles"
  | "permissions"
  | "remaining"
  | "refill"
  | "ratelimits"
>;

/** The settings a create or update request carries, in the domain's terms; a refill counts as done `now`. */
export function settingsFromRequest(request: SettingsSource, now: number): Omit<KeySettings, "enabled"> {
  return {
    name: request.name,
    description: request.description,
    ownerId: request.ownerId,
    orgId: request.orgId,
    environment: request.environment,
    expiresAt: request.expiresAt && timestampDate(request.expiresAt),
    meta: request.meta,
    scopes: request.scopes,
    roles: request.roles,
    permissions: request.permissions,
    // The API caps credits far inside a double's exact range.
    remaining: request.remaining === undefined ? undefined : Number(request.remaining),
    refill: fromRefill(request.refill, now),
    ratelimits: fromRatelimits(request.ratelimits),
  };
}

/** Only the fields named in the update mask, plus the time of the change. */
export function changesFromUpdate(request: UpdateKeyRequest, now: number): KeyChanges {
  const settings: KeySettings = { ...settingsFromRequest(request, now), enabled: request.enabled };
  return { ...applyUpdateMask(UpdateKeyRequestSchema, request.updateMask, settings), updatedAt: new Date(now) };
}

export function toTimestamp(date: Date | undefined): Timestamp | undefined {
  return date && timestampFromDate(date);
}

export function fromRatelimits(ratelimits: readonly Ratelimit[]): RatelimitPolicy[] {
  return ratelimits.map((limit) => ({
    name: limit.name,
    limit: Number(limit.limit),
    durationMs: limit.duration ? durationMs(limit.duration) : 0,
  }));
}

export function toRatelimitMessage(limit: RatelimitPolicy): Ratelimit {
  return create(RatelimitSchema, {
    name: limit.name,
    limit: BigInt(limit.limit),
    duration: durationFromMs(limit.durationMs),
  });
}

function fromRefill(refill: Refill | undefined, now: number): RefillPolicy | undefined {
  if (!refill) return undefined;
  return {
    interval: refill.interval === RefillInterval.MONTHLY ? "monthly" : "daily",
    amount: Number(refill.amount),
    refillDay: refill.refillDay,
    lastRefilledAt: new Date(now),
  };
}

function toRefillMessage(refill: RefillPolicy): Refill {
  return create(RefillSchema, {
    interval: refill.interval === "monthly" ? RefillInterval.MONTHLY : RefillInterval.DAILY,
    amount: BigInt(refill.amount),
    refillDay: refill.refillDay,
    lastRefilledAt: toTimestamp(refill.lastRefilledAt),
  });
}

function toOptionalBigInt(value: number | undefined): bigint | undefined {
  return value === undefined ? undefined : BigInt(value);
}
