import { createValidator, violationsToProto } from "@bufbuild/protovalidate";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Middleware } from "./call.js";
import { createOverMaxItems } from "./over-max-items.js";

/**
 * Checks every request against the protovalidate rules in the proto files.
 * A violation is INVALID_ARGUMENT naming the field, with the violations
 * attached as a `buf.validate.Violations` error detail. A request with a list
 * past its max_items stops at the first violation, without checking every item.
 */
export function createValidation(): Middleware {
  const validator = createValidator();
  const firstViolationOnly = createValidator({ failFast: true });
  const overMaxItems = createOverMaxItems();
  return (next, method) => (request, call) => {
    const stopEarly = overMaxItems(method.input, request);
    const result = (stopEarly ? firstViolationOnly : validator).validate(method.input, request);
    if (result.kind === "valid") return next(request, call);
    const details = [];
    if (result.violations) {
      const [value, desc] = violationsToProto(result.violations);
      details.push({ desc, value });
    }
    return Promise.reject(
      new ConnectError(result.error.message, Code.InvalidArgument, undefined, details, result.error),
    );
  };
}
