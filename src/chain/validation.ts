import { create, toBinary } from "@bufbuild/protobuf";
import { createValidator, type ValidationResult, type Violation, violationsToProto } from "@bufbuild/protovalidate";
import { ViolationSchema, ViolationsSchema } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Middleware } from "./call.js";
import { createOverMaxItems } from "./over-max-items.js";

/** How many violations an answer details at most. */
const MAX_DETAILED_VIOLATIONS = 10;
/**
 * How large the detailed violations may be, encoded. The gRPC port sends them
 * in a header (`grpc-status-details-bin`, base64): past Node's 64 KiB header
 * limit the call hangs and its HTTP/2 connection with it.
 */
const MAX_VIOLATION_DETAILS_BYTES = 2_048;
/** How long the message may be; it travels in a header too (`grpc-message`). */
const MAX_MESSAGE_LENGTH = 1_024;
/** Bytes the Violations message adds per violation: the field tag and a length of at most two bytes. */
const PER_VIOLATION_OVERHEAD = 3;

/**
 * Checks every request against the protovalidate rules in the proto files.
 * A violation is INVALID_ARGUMENT naming the field, with the first violations
 * attached as a `buf.validate.Violations` error detail, within a byte budget;
 * the message says how many were left out. A request with a list past its
 * max_items stops at the first violation, without checking every item.
 */
export function createValidation(): Middleware {
  const validator = createValidator();
  const firstViolationOnly = createValidator({ failFast: true });
  const overMaxItems = createOverMaxItems();
  return (next, method) => {
    const isOverMaxItems = overMaxItems(method.input);
    return (request, call) => {
      const stopEarly = isOverMaxItems(request);
      const result = (stopEarly ? firstViolationOnly : validator).validate(method.input, request);
      if (result.kind === "valid") return next(request, call);
      return Promise.reject(invalidArgument(result, stopEarly));
    };
  };
}

function invalidArgument(
  result: Exclude<ValidationResult<unknown, unknown>, { kind: "valid" }>,
  stoppedEarly: boolean,
) {
  if (!result.violations) {
    return new ConnectError(truncate(result.error.message), Code.InvalidArgument, undefined, [], result.error);
  }
  const detailed = firstViolationsWithin(result.violations);
  const leftOut = result.violations.length - detailed.violations.length;
  const notes = [
    ...(leftOut > 0 ? [`error details list ${detailed.violations.length}, ${leftOut} left out`] : []),
    ...(stoppedEarly ? ["a list is over its max_items, so validation stopped at the first violation"] : []),
  ];
  const details = detailed.violations.length > 0 ? [{ desc: ViolationsSchema, value: detailed }] : [];
  // The notes are kept whole; the message gives way, so that the whole stays within MAX_MESSAGE_LENGTH.
  const note = notes.length > 0 ? ` (${notes.join("; ")})` : "";
  return new ConnectError(
    `${truncate(result.error.message, MAX_MESSAGE_LENGTH - note.length)}${note}`,
    Code.InvalidArgument,
    undefined,
    details,
    result.error,
  );
}

/** The first violations, as many as fit MAX_DETAILED_VIOLATIONS and MAX_VIOLATION_DETAILS_BYTES. */
function firstViolationsWithin(violations: readonly Violation[]) {
  const [candidates] = violationsToProto(violations.slice(0, MAX_DETAILED_VIOLATIONS));
  const kept = [];
  let bytes = 0;
  for (const violation of candidates.violations) {
    bytes += toBinary(ViolationSchema, violation).length + PER_VIOLATION_OVERHEAD;
    if (bytes > MAX_VIOLATION_DETAILS_BYTES) break;
    kept.push(violation);
  }
  return create(ViolationsSchema, { violations: kept });
}

function truncate(text: string, max = MAX_MESSAGE_LENGTH): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
