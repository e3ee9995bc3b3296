import { Code } from "@connectrpc/connect";

/**
 * A call's outcome as gRPC names it ("OK", "PERMISSION_DENIED"): the one
 * spelling logs, metrics and the audit log use.
 */
export function codeName(code: Code | "ok"): string {
  return code === "ok" ? "OK" : Code[code].replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}
