import { VerifyCode } from "../../gen/keyward/v1/key_pb.js";

/** How a verification outcome reaches Envoy's caller: HTTP status and the gRPC code of the Check answer. */
export interface Denial {
  readonly httpStatus: 401 | 403 | 429;
  /** google.rpc.Code of CheckResponse.status. */
  readonly grpcCode: number;
}

const UNAUTHENTICATED = 16;
const PERMISSION_DENIED = 7;
const RESOURCE_EXHAUSTED = 8;

/**
 * 401 when there is no key or no such key, 403 when the key exists but may not
 * pass, 429 when it may pass later (rate limits, credits). Undefined: allowed.
 */
export function denialFor(code: VerifyCode | "KEY_MISSING"): Denial | undefined {
  switch (code) {
    case VerifyCode.VALID:
      return undefined;
    case "KEY_MISSING":
    case VerifyCode.NOT_FOUND:
    case VerifyCode.UNSPECIFIED:
      return { httpStatus: 401, grpcCode: UNAUTHENTICATED };
    case VerifyCode.REVOKED:
    case VerifyCode.DISABLED:
    case VerifyCode.EXPIRED:
    case VerifyCode.INSUFFICIENT_PERMISSIONS:
      return { httpStatus: 403, grpcCode: PERMISSION_DENIED };
    case VerifyCode.RATE_LIMITED:
    case VerifyCode.USAGE_EXCEEDED:
      return { httpStatus: 429, grpcCode: RESOURCE_EXHAUSTED };
  }
}

/** The name a denial body gives for the outcome ("VERIFY_CODE_REVOKED", or "KEY_MISSING"). */
export function codeName(code: VerifyCode | "KEY_MISSING"): string {
  return code === "KEY_MISSING" ? code : `VERIFY_CODE_${VerifyCode[code]}`;
}
