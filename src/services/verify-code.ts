import { VerifyCode } from "../../gen/keyward/v1/key_pb.js";
import type { VerificationStatus } from "../verification/verification.js";

const CODES: Record<VerificationStatus, VerifyCode> = {
  valid: VerifyCode.VALID,
  notFound: VerifyCode.NOT_FOUND,
  revoked: VerifyCode.REVOKED,
  disabled: VerifyCode.DISABLED,
  expired: VerifyCode.EXPIRED,
  insufficientPermissions: VerifyCode.INSUFFICIENT_PERMISSIONS,
  rateLimited: VerifyCode.RATE_LIMITED,
  usageExceeded: VerifyCode.USAGE_EXCEEDED,
};

/** The API's code for a verification's outcome. */
export function verifyCodeOf(status: VerificationStatus): VerifyCode {
  return CODES[status];
}

/** The code's full name as the API spells it in JSON: "VERIFY_CODE_REVOKED". */
export function verifyCodeName(status: VerificationStatus): string {
  return `VERIFY_CODE_${VerifyCode[CODES[status]]}`;
}
