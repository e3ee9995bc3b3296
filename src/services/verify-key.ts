import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { VerifyCode } from "../../gen/keyward/v1/key_pb.js";
import {
  type KeyService,
  type VerifyKeyResponse,
  VerifyKeyResponseSchema,
} from "../../gen/keyward/v1/key_service_pb.js";
import type { Principal } from "../auth/principal.js";
import type { ServiceHandlers } from "../chain/call.js";
import { peerAddress } from "../chain/peer-address.js";
import { SharedReplies } from "../chain/shared-replies.js";
import type { VerifiableKey } from "../keys/verifiable-key.js";
import type { FailureCounter } from "../ratelimit/failure-counter.js";
import type { Verification, VerificationStatus, Verify } from "../verification/verification.js";
import { type InvalidInput, readVerificationRequest } from "../verification/verification-request.js";
import type { VerifierScope } from "../verification/verifier-scope.js";
import { fromOverrides, toVerifyAnswer } from "./key-mapping.js";
import { verifyCodeOf } from "./verify-code.js";

export interface VerifyKeyDeps {
  readonly verify: Verify;
  readonly scopeOf: (principal: Principal | undefined) => VerifierScope;
  /** Verifications without a root key that found no key, per address (KEYWARD_VERIFY_FAILURES_PER_MINUTE). */
  readonly failures: FailureCounter;
}

type VerifyKey = ServiceHandlers<typeof KeyService>["verifyKey"];

/** The answer for every key not found: a shared reply, made and encoded once (a flood of bad keys meets it). */
const NOT_FOUND = Object.freeze(create(VerifyKeyResponseSchema, { valid: false, code: VerifyCode.NOT_FOUND }));

/**
 * VerifyKey: the verification use case in the API's terms. The caller's right
 * to verify is settled first; then the request's rules (the same rules Check
 * applies); then the verification itself.
 */
export function createVerifyKey(deps: VerifyKeyDeps): VerifyKey {
  const answers = new SharedReplies<VerifiableKey, VerificationStatus, VerifyKeyResponse>();
  return async (request, call) => {
    // Without a root key, nothing but the address tells callers apart; it is worked out only when
    // some address has failed lately (nearly always none has) or this call fails.
    const anonymous = !call.principal;
    if (anonymous && !deps.failures.empty && deps.failures.blocked(peerAddress(call.peer))) {
      throw new ConnectError(
        "too many failed verifications from this address; try again later",
        Code.ResourceExhausted,
      );
    }
    const read = readVerificationRequest({
      key: request.key,
      permissionQuery: request.permissionQuery,
      cost: request.cost,
      overrides: fromOverrides(request.ratelimits),
    });
    if (read.kind === "invalid") throw invalidArgument(read.problem);
    const verification = await deps.verify(read.request, deps.scopeOf(call.principal));
    if (anonymous && verification.status === "notFound") deps.failures.failed(peerAddress(call.peer));
    return answerTo(verification);
  };

  function answerTo({ status, record, credits, ratelimits }: Verification) {
    if (!record) return NOT_FOUND;
    if (credits || ratelimits.length > 0) return toVerifyAnswer(record, verifyCodeOf(status), credits, ratelimits);
    return unchangingAnswer(record, status);
  }

  /**
   * An answer that depends on nothing but the key's record and the outcome is
   * a shared reply: made once per cached record and reused, and encoded once
   * by the transport. A changed key is a new record object, with answers of its own.
   */
  function unchangingAnswer(record: VerifiableKey, status: VerificationStatus): VerifyKeyResponse {
    return answers.get(record, status, () =>
      create(VerifyKeyResponseSchema, toVerifyAnswer(record, verifyCodeOf(status), undefined, [])),
    );
  }
}

function invalidArgument({ field, message }: InvalidInput): ConnectError {
  return new ConnectError(`${field}: ${message}`, Code.InvalidArgument);
}
