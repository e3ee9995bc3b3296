import { create } from "@bufbuild/protobuf";
import { type Timestamp, timestampMs } from "@bufbuild/protobuf/wkt";
import { HeaderValueOption_HeaderAppendAction } from "../../gen/envoy/config/core/v3/base_pb.js";
import {
  type Authorization,
  type CheckResponse,
  CheckResponseSchema,
} from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { VerifyCode } from "../../gen/keyward/v1/key_pb.js";
import {
  type KeyService,
  VerifyKeyRequestSchema,
  type VerifyKeyResponse,
  VerifyKeyResponseSchema,
} from "../../gen/keyward/v1/key_service_pb.js";
import { PerObjectMemo } from "../cache/per-object-memo.js";
import type { Clock } from "../keys/clock.js";
import type { ServiceHandlers } from "../rpc/call.js";
import { codeName, denialFor } from "./check-outcome.js";
import { presentedKey } from "./presented-key.js";

export interface ExtAuthzDeps {
  /** VerifyKey itself: a Check is a verification that answers in Envoy's terms. */
  readonly verifyKey: ServiceHandlers<typeof KeyService>["verifyKey"];
  /** Headers the key may come in, in order of preference (lower case). */
  readonly keyHeaders: readonly string[];
  readonly clock: Clock;
}

/** Per-route settings Envoy can pass in `context_extensions`. */
const PERMISSION_QUERY = "keyward.permission_query";
const COST = "keyward.cost";

/**
 * envoy.service.auth.v3.Authorization/Check (Envoy's ext_authz filter). An
 * allowed request goes on without its key header and with headers (and
 * dynamic metadata, for the rate-limit filter) naming the key, its owner and
 * keyspace; a denied one gets 401, 403 or 429 with a small JSON body.
 */
export function createExtAuthzService(deps: ExtAuthzDeps): ServiceHandlers<typeof Authorization> {
  const allowedAnswers = new PerObjectMemo<VerifyKeyResponse, string, CheckResponse>();
  return {
    async check(request, call) {
      const presented = presentedKey(request, deps.keyHeaders);
      if (!presented) return denied("KEY_MISSING", undefined);
      const extensions = request.attributes?.contextExtensions ?? {};
      const cost = extensions[COST];
      const verification = create(VerifyKeyRequestSchema, {
        key: presented.key,
        permissionQuery: extensions[PERMISSION_QUERY] ?? "",
        cost: cost === undefined ? undefined : Number.parseInt(cost, 10),
      });
      const answer = create(VerifyKeyResponseSchema, await deps.verifyKey(verification, call));
      if (answer.code !== VerifyCode.VALID) return denied(answer.code, retryAfter(answer));
      return allowedFor(answer, presented.header);
    },
  };

  /**
   * VerifyKey hands out one frozen answer per key state; the Check answer made
   * from it is made once too, and frozen, so the transport encodes it once.
   */
  function allowedFor(answer: VerifyKeyResponse, keyHeader: string): CheckResponse {
    if (!Object.isFrozen(answer)) return allowed(answer, keyHeader);
    return allowedAnswers.get(answer, keyHeader, () => Object.freeze(allowed(answer, keyHeader)));
  }

  /** Seconds until waiting could change the answer: the earliest window reset, or the next refill. */
  function retryAfter(answer: VerifyKeyResponse): number | undefined {
    const now = deps.clock();
    const until =
      answer.code === VerifyCode.RATE_LIMITED
        ? Math.min(...answer.ratelimits.filter((limit) => limit.exceeded).map((limit) => msOf(limit.resetAt)))
        : answer.code === VerifyCode.USAGE_EXCEEDED && answer.refillAt
          ? timestampMs(answer.refillAt)
          : undefined;
    return until === undefined || !Number.isFinite(until) ? undefined : Math.max(1, Math.ceil((until - now) / 1000));
  }
}

function allowed(answer: VerifyKeyResponse, keyHeader: string): CheckResponse {
  const identity = { key_id: answer.keyId, owner_id: answer.ownerId, keyspace_id: answer.keyspaceId };
  return create(CheckResponseSchema, {
    status: { code: 0 },
    httpResponse: {
      case: "okResponse",
      value: {
        headers: [
          header("x-keyward-key-id", answer.keyId),
          header("x-keyward-owner-id", answer.ownerId),
          header("x-keyward-keyspace-id", answer.keyspaceId),
        ],
        headersToRemove: [keyHeader],
      },
    },
    dynamicMetadata: identity,
  });
}

function denied(code: VerifyCode | "KEY_MISSING", retryAfterSeconds: number | undefined): CheckResponse {
  const denial = denialFor(code);
  if (!denial) throw new Error("denied() called for an allowed request");
  const headers = [header("content-type", "application/json")];
  if (retryAfterSeconds !== undefined) headers.push(header("retry-after", String(retryAfterSeconds)));
  return create(CheckResponseSchema, {
    status: { code: denial.grpcCode, message: codeName(code) },
    httpResponse: {
      case: "deniedResponse",
      value: { status: { code: denial.httpStatus }, headers, body: JSON.stringify({ code: codeName(code) }) },
    },
  });
}

/** A header Envoy sets, replacing any of the same name the client sent (so clients cannot forge them). */
function header(key: string, value: string) {
  return { header: { key, value }, appendAction: HeaderValueOption_HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD };
}

function msOf(timestamp: Timestamp | undefined): number {
  return timestamp ? timestampMs(timestamp) : Number.POSITIVE_INFINITY;
}
