import { VerifyCode } from "../../gen/keyward/v1/key_pb.js";
import type { UsageOutcome } from "./key-record.js";

const OUTCOMES: Partial<Record<VerifyCode, UsageOutcome>> = {
  [VerifyCode.VALID]: "valid",
  [VerifyCode.REVOKED]: "revoked",
  [VerifyCode.DISABLED]: "disabled",
  [VerifyCode.EXPIRED]: "expired",
  [VerifyCode.INSUFFICIENT_PERMISSIONS]: "insufficientPermissions",
  [VerifyCode.RATE_LIMITED]: "rateLimited",
  [VerifyCode.USAGE_EXCEEDED]: "usageExceeded",
};

/** The usage counter a verification outcome adds to (none for NOT_FOUND: there is no key). */
export function usageOutcome(code: VerifyCode): UsageOutcome | undefined {
  return OUTCOMES[code];
}
