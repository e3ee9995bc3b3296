import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { HeaderValueOption_HeaderAppendAction } from "../../gen/envoy/config/core/v3/base_pb.js";
import {
  type Authorization,
  type CheckRequest,
  type CheckResponse,
  CheckResponseSchema,
} from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import type { Principal } from "../auth/principal.js";
import type { ServiceHandlers } from "../chain/call.js";
import { peerAddress } from "../chain/peer-address.js";
import { SharedReplies } from "../chain/shared-replies.js";
import type { Clock } from "../keys/clock.js";
import type { VerifiableKey } from "../keys/verifiable-key.js";
import { FAILURE_WINDOW_MS, type FailureCounter } from "../ratelimit/failure-counter.js";
import type { Verification, Verify } from "../verification/verification.js";
import { MAX_COST, readVerificationRequest } from "../verification/verification-request.js";
import type { VerifierScope } from "../verification/verifier-scope.js";
import { type CheckRefusal, denialFor } from "./check-outcome.js";
import { presentedKey } from "./presented-key.js";

export interface ExtAuthzDeps {
  /** The verification use case: a Check is a verification that answers in Envoy's terms. */
  readonly verify: Verify;
  readonly scopeOf: (principal: Principal | undefined) => VerifierScope;
  /**
   * Checks that found no key, per caller (its root key, or its address) and
   * the client address it reports: one caller's clients cannot lock out
   * another's, nor can a caller lock out an address for everyone.
   */
  readonly failures: FailureCounter;
  /** Headers the key may come in, in order of preference (lower case). */
  readonly keyHeaders: readonly string[];
  readonly clock: Clock;
}

/** Per-route settings Envoy can pass in `context_extensions`. */
const PERMISSION_QUERY = "keyward.permission_query";
const COST = "keyward.cost";
const DIGITS = /^\d{1,7}$/;
/** google.rpc.Code OK; Connect's Code names only failures. */
const OK = 0;

/**
 * envoy.service.auth.v3.Authorization/Check (Envoy's ext_authz filter). An
 * allowed request goes on without its key header and with headers (and
 * dynamic metadata, for the rate-limit filter) naming the key, its owner and
 * keyspace; a denied one gets 401, 403 or 429 with a small JSON body. The
 * route's settings are held to VerifyKey's rules: a bad one is
 * INVALID_ARGUMENT (a fault in Envoy's configuration, which Envoy answers
 * with its status_on_error), never a verification.
 */
export function createExtAuthzService(deps: ExtAuthzDeps): ServiceHandlers<typeof Authorization> {
  const allowedAnswers = new SharedReplies<VerifiableKey, string, CheckResponse>();
  return {
    async check(request, call) {
      // Worked out only when some client has failed lately: nearly always none has.
      const client = () => `${call.principal?.keyId ?? peerAddress(call.peer)}|${clientAddress(request) ?? ""}`;
      if (!deps.failures.empty && deps.failures.blocked(client())) return TOO_MANY_FAILURES;
      const presented = presentedKey(request, deps.keyHeaders);
      if (!presented) return KEY_MISSING;
      const extensions = request.attributes?.contextExtensions ?? {};
      const cost = extensions[COST];
      if (cost !== undefined && !DIGITS.test(cost)) {
        throw new ConnectError(`${COST}: must be a whole number from 0 to ${MAX_COST}`, Code.InvalidArgument);
      }
      const read = readVerificationRequest({
        key: presented.key,
        permissionQuery: extensions[PERMISSION_QUERY] ?? "",
        cost: cost === undefined ? undefined : Number(cost),
        overrides: [],
      });
      if (read.kind === "invalid") {
        const { field, message } = read.problem;
        // The key is the client's; anything else is the route's.
        if (field === "key") return failed(client());
        throw new ConnectError(`keyward.${field}: ${message}`, Code.InvalidArgument);
      }
      const verification = await deps.verify(read.request, deps.scopeOf(call.principal));
      const { status, record } = verification;
      if (status === "notFound" || !record) return failed(client());
      if (status !== "valid") return denied(status, retryAfter(verification));
      // A shared reply: made once per key state and header, and encoded once by the transport.
      return allowedAnswers.get(record, presented.header, () => allowed(record, presented.header));
    },
  };

  function failed(client: string): CheckResponse {
    deps.failures.failed(client);
    return NOT_FOUND;
  }

  /** Seconds until waiting could change the answer: the earliest window reset, or the next refill. */
  function retryAfter({ status, ratelimits, credits }: Verification): number | undefined {
    const until =
      status === "rateLimited"
        ? Math.min(...ratelimits.filter((limit) => limit.exceeded).map((limit) => limit.resetAt))
        : status === "usageExceeded"
          ? credits?.refillAt
          : undefined;
    return until === undefined || !Number.isFinite(until) ? undefined : secondsUntil(until);
  }

  function secondsUntil(when: number): number {
    return Math.max(1, Math.ceil((when - deps.clock()) / 1000));
  }
}

/** Refusals that depend on nothing per call: shared replies, made and encoded once (a flood of bad keys meets these). */
const NOT_FOUND = Object.freeze(denied("notFound", undefined));
const KEY_MISSING = Object.freeze(denied("keyMissing", undefined));
/** At most a window away: a failure counter's window starts with the client's first failure. */
const TOO_MANY_FAILURES = Object.freeze(denied("tooManyFailures", FAILURE_WINDOW_MS / 1000));

/** The downstream client's address as Envoy reports it, when it does. */
function clientAddress(request: CheckRequest): string | undefined {
  const address = request.attributes?.source?.address?.address;
  return address?.case === "socketAddress" && address.value.address ? address.value.address : undefined;
}

/**
 * The headers an allowed request goes on with, naming who it is. The application trusts them, so
 * Envoy must strip any a client sent on every route (deploy/envoy/envoy.yaml does; a test holds
 * the two lists equal).
 */
export const IDENTITY_HEADERS = ["x-keyward-key-id", "x-keyward-owner-id", "x-keyward-keyspace-id"] as const;

function allowed(record: VerifiableKey, keyHeader: string): CheckResponse {
  const values = [record.keyId, record.ownerId, record.keyspaceId];
  const identity = { key_id: record.keyId, owner_id: record.ownerId, keyspace_id: record.keyspaceId };
  return create(CheckResponseSchema, {
    status: { code: OK },
    httpResponse: {
      case: "okResponse",
      value: {
        headers: IDENTITY_HEADERS.map((name, i) => header(name, values[i] ?? "")),
        headersToRemove: [keyHeader],
      },
    },
    dynamicMetadata: identity,
  });
}

function denied(refusal: CheckRefusal, retryAfterSeconds: number | undefined): CheckResponse {
  const denial = denialFor(refusal);
  const headers = [header("content-type", "application/json")];
  if (retryAfterSeconds !== undefined) headers.push(header("retry-after", String(retryAfterSeconds)));
  return create(CheckResponseSchema, {
    status: { code: denial.grpcCode, message: denial.name },
    httpResponse: {
      case: "deniedResponse",
      value: { status: { code: denial.httpStatus }, headers, body: JSON.stringify({ code: denial.name }) },
    },
  });
}

/** A header Envoy sets, replacing any of the same name the client sent (so clients cannot forge them). */
function header(key: string, value: string) {
  return { header: { key, value }, appendAction: HeaderValueOption_HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD };
}
