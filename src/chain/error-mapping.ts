import { Code, ConnectError } from "@connectrpc/connect";
import { CorruptRecordError } from "../ports/corrupt-record-error.js";
import { DuplicateRecordError, StoreUnavailableError } from "../ports/store-errors.js";
import type { Middleware } from "./call.js";

/**
 * Gives every failure a gRPC code. Store outages become UNAVAILABLE, anything
 * unexpected INTERNAL; the original error rides along as `cause` for the log
 * and never reaches the caller.
 */
export function createErrorMapping(): Middleware {
  return (next) => (request, call) =>
    next(request, call).catch((error: unknown) => {
      throw toConnectError(error);
    });
}

/** The caller-facing form of an error. */
function toConnectError(error: unknown): ConnectError {
  if (error instanceof ConnectError) return error;
  if (error instanceof StoreUnavailableError) {
    return new ConnectError(error.message, Code.Unavailable, undefined, undefined, error);
  }
  if (error instanceof CorruptRecordError) {
    return new ConnectError("the key's stored record is damaged", Code.DataLoss, undefined, undefined, error);
  }
  if (error instanceof DuplicateRecordError) {
    return new ConnectError("the record already exists", Code.AlreadyExists, undefined, undefined, error);
  }
  return new ConnectError("internal error", Code.Internal, undefined, undefined, error);
}
