import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { VerifyCode } from "../../gen/keyward/v1/key_pb.js";
import {
  type KeyService,
  type VerifyKeyResponse,
  VerifyKeyResponseSchema,
} from "../../gen/keyward/v1/key_service_pb.js";
import { type PermissionQuery, parsePermissionQuery, satisfies } from "../auth/permission-query.js";
import { grants } from "../auth/permissions.js";
import { may, mayAnywhere } from "../auth/principal.js";
import type { KeyspaceRoles } from "../cache/keyspace-roles.js";
import { PerObjectMemo } from "../cache/per-object-memo.js";
import type { Clock } from "../keys/clock.js";
import { effectivePermissions } from "../keys/effective-permissions.js";
import { checkKey } from "../keys/key-checks.js";
import type { KeyHasher } from "../keys/key-hasher.js";
import { parseKey } from "../keys/key-material.js";
import type { KeyRecord } from "../keys/key-record.js";
import { nextRefillAt } from "../keys/refill.js";
import { usageOutcome } from "../keys/usage-outcome.js";
import type { Metrics } from "../metrics/metrics.js";
import { type LimitResult, limitsFor } from "../ratelimit/limits.js";
import type { CreditSpend, KeyStore } from "../store/key-store.js";
import type { RateLimiter } from "../store/rate-limiter.js";
import type { UsageRecorder } from "../usage/usage-recorder.js";
import type { Call, ServiceHandlers } from "./call.js";
import { applyDueRefill } from "./credits.js";
import { fromOverrides, toVerifyAnswer } from "./key-mapping.js";

export interface VerifyKeyDeps {
  readonly metrics: Pick<Metrics, "verification" | "ratelimit">;
  readonly keys: KeyStore;
  readonly keyspaceRoles: KeyspaceRoles;
  readonly hasher: KeyHasher;
  readonly clock: Clock;
  readonly limiter: RateLimiter;
  readonly usage: UsageRecorder;
}

type VerifyKey = ServiceHandlers<typeof KeyService>["verifyKey"];

const NOT_FOUND = { valid: false, code: VerifyCode.NOT_FOUND } as const;

/**
 * VerifyKey, the hot path. The caller's right to verify is settled and the
 * permission query parsed before any lookup; a malformed key never reaches a
 * store; a key of a keyspace the caller may not verify in is as good as
 * missing. Then, in order: revoked → disabled → expired → permissions → rate
 * limits → credits. Only keys with rate limits touch the limiter, and only
 * keys with credits touch the key store for writing.
 */
export function createVerifyKey(deps: VerifyKeyDeps): VerifyKey {
  const answers = new PerObjectMemo<KeyRecord, VerifyCode, VerifyKeyResponse>();
  return async (request, call) => {
    if (call.principal && !mayAnywhere(call.principal, "verify_key")) {
      throw new ConnectError("permission denied", Code.PermissionDenied);
    }
    const query = parseQuery(request.permissionQuery);
    if (!parseKey(request.key)) return notFound();
    const hash = deps.hasher(request.key);
    const record = await deps.keys.findByHash(hash);
    if (!record || !mayVerifyIn(call, record.keyspaceId)) return notFound();

    const now = deps.clock();
    const cost = request.cost ?? 1;
    let code = checkKey(record, hash, now);
    if (code === VerifyCode.VALID && query && !(await holds(record, query))) {
      code = VerifyCode.INSUFFICIENT_PERMISSIONS;
    }
    let ratelimits: LimitResult[] = [];
    const limits = limitsFor(record.ratelimits, fromOverrides(request.ratelimits), cost);
    if (code === VerifyCode.VALID && limits.length > 0) {
      ratelimits = await deps.limiter.consume(record.keyId, limits, now);
      if (ratelimits.some((result) => result.exceeded)) code = VerifyCode.RATE_LIMITED;
      deps.metrics.ratelimit("verify", code === VerifyCode.RATE_LIMITED ? "limited" : "allowed");
    }
    // Credits are reported only when this verification looked at them: the cached record's count may be old.
    let credits: { remaining: number; refillAt?: number } | undefined;
    if (code === VerifyCode.VALID && record.remaining !== undefined) {
      const spend = await spendCredits(record, cost, now);
      if (!spend?.spent) code = VerifyCode.USAGE_EXCEEDED;
      credits = { remaining: spend?.remaining ?? 0, refillAt: record.refill && nextRefillAt(record.refill, now) };
    }
    const outcome = usageOutcome(code);
    if (outcome) deps.usage.record(record.keyId, outcome, now);
    deps.metrics.verification(VerifyCode[code]);
    if (credits || ratelimits.length > 0) return toVerifyAnswer(record, code, credits, ratelimits);
    return unchangingAnswer(record, code);
  };

  /**
   * An answer that depends on nothing but the key's record and the outcome is
   * made once per cached record and reused (so the transport also encodes it
   * once); a changed key is a new record object, with answers of its own.
   */
  function unchangingAnswer(record: KeyRecord, code: VerifyCode): VerifyKeyResponse {
    // Frozen: it is shared, and the transport then encodes it only once.
    return answers.get(record, code, () =>
      Object.freeze(create(VerifyKeyResponseSchema, toVerifyAnswer(record, code, undefined, []))),
    );
  }

  function notFound() {
    deps.metrics.verification("NOT_FOUND");
    return NOT_FOUND;
  }

  async function holds(record: KeyRecord, query: PermissionQuery): Promise<boolean> {
    // Roles live on the keyspace; fetch it only when the key has any.
    const roles = record.roles.length > 0 ? await deps.keyspaceRoles(record.keyspaceId) : [];
    const held = effectivePermissions(record, roles);
    return satisfies(query, (permission) => grants(held, permission));
  }

  async function spendCredits(record: KeyRecord, cost: number, now: number): Promise<CreditSpend | undefined> {
    await applyDueRefill(deps.keys, record, now);
    return deps.keys.spendCredits(record.keyId, cost);
  }
}

function mayVerifyIn(call: Call, keyspaceId: string): boolean {
  return !call.principal || may(call.principal, "verify_key", keyspaceId);
}

function parseQuery(text: string): PermissionQuery | undefined {
  if (text.trim() === "") return undefined;
  const parsed = parsePermissionQuery(text);
  if (parsed.kind === "error") {
    const { message, position } = parsed.error;
    throw new ConnectError(`permission_query: ${message} at position ${position}`, Code.InvalidArgument);
  }
  return parsed.query;
}
