import { create } from "@bufbuild/protobuf";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { durationFromMs, durationMs, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type Key,
  KeySchema,
  type Ratelimit,
  RatelimitSchema,
  type Refill,
  RefillInterval,
  RefillSchema,
} from "../../gen/keyward/v1/key_pb.js";
import { isExpired } from "../keys/key-checks.js";
import type { KeyRecord, RatelimitPolicy, RefillPolicy } from "../keys/key-record.js";

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
    remaining: record.remaining === undefined ? undefined : BigInt(record.remaining),
    refill: record.refill && toRefillMessage(record.refill),
    ratelimits: record.ratelimits.map(toRatelimitMessage),
  });
}

export function toTimestamp(date: Date | undefined): Timestamp | undefined {
  return date && timestampFromDate(date);
}

export function fromTimestamp(timestamp: Timestamp | undefined): Date | undefined {
  return timestamp && timestampDate(timestamp);
}

/** Credits as the domain counts them; the API's int64 is capped well inside a double's exact range. */
export function fromCredits(remaining: bigint | undefined): number | undefined {
  return remaining === undefined ? undefined : Number(remaining);
}

export function fromRatelimits(ratelimits: Ratelimit[]): RatelimitPolicy[] {
  return ratelimits.map((limit) => ({
    name: limit.name,
    limit: Number(limit.limit),
    durationMs: limit.duration ? durationMs(limit.duration) : 0,
  }));
}

export function fromRefill(refill: Refill | undefined): RefillPolicy | undefined {
  if (!refill) return undefined;
  return {
    interval: refill.interval === RefillInterval.MONTHLY ? "monthly" : "daily",
    amount: Number(refill.amount),
    refillDay: refill.refillDay,
  };
}

function toRatelimitMessage(limit: RatelimitPolicy): Ratelimit {
  return create(RatelimitSchema, {
    name: limit.name,
    limit: BigInt(limit.limit),
    duration: durationFromMs(limit.durationMs),
  });
}

function toRefillMessage(refill: RefillPolicy): Refill {
  return create(RefillSchema, {
    interval: refill.interval === "monthly" ? RefillInterval.MONTHLY : RefillInterval.DAILY,
    amount: BigInt(refill.amount),
    refillDay: refill.refillDay,
    lastRefilledAt: toTimestamp(refill.lastRefilledAt),
  });
}
