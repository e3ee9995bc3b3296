import { Code } from "@connectrpc/connect";
import { verifyCodeName } from "../services/verify-code.js";
import type { VerificationStatus } from "../verification/verification.js";

/** Why a Check refused: a verification's outcome, no key at all, or an address that failed too often. */
export type CheckRefusal = Exclude<VerificationStatus, "valid"> | "keyMissing" | "tooManyFailures";

/** How a refusal reaches Envoy's caller: HTTP status, the gRPC code of the Check answer, and the code its body names. */
export interface Denial {
  readonly httpStatus: 401 | 403 | 429;
  /** google.rpc.Code of CheckResponse.status (Connect's codes are gRPC's, number for number). */
  readonly grpcCode: Code;
  /** "VERIFY_CODE_REVOKED", "KEY_MISSING", "TOO_MANY_FAILURES". */
  readonly name: string;
}

/**
 * 401 when there is no key or no such key, 403 when the key exists but may not
 * pass, 429 when it may pass later (rate limits, credits, an address that
 * failed too often).
 */
export function denialFor(refusal: CheckRefusal): Denial {
  switch (refusal) {
    case "keyMissing":
      return { httpStatus: 401, grpcCode: Code.Unauthenticated, name: "KEY_MISSING" };
    case "tooManyFailures":
      return { httpStatus: 429, grpcCode: Code.ResourceExhausted, name: "TOO_MANY_FAILURES" };
    case "notFound":
      return { httpStatus: 401, grpcCode: Code.Unauthenticated, name: verifyCodeName(refusal) };
    case "revoked":
    case "disabled":
    case "expired":
    case "insufficientPermissions":
      return { httpStatus: 403, grpcCode: Code.PermissionDenied, name: verifyCodeName(refusal) };
    case "rateLimited":
    case "usageExceeded":
      return { httpStatus: 429, grpcCode: Code.ResourceExhausted, name: verifyCodeName(refusal) };
  }
}
