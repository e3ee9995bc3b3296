import type { DescMethodUnary, Message } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Principal } from "../auth/principal.js";
import type { AuthFailureLimiter } from "./auth-failure-limiter.js";
import { bearerToken } from "./bearer-token.js";
import type { Call, Invoke, Middleware } from "./call.js";
import type { RootKeyAuthenticator } from "./root-key-authenticator.js";

/**
 * Requires `authorization: Bearer <root key>` on every method that `needsRootKey`
 * names, and sets the call's principal. Every way a key can be wrong gets the
 * same answer, so the answer says nothing about which keys exist.
 */
export function createAuthentication(options: {
  readonly authenticate: RootKeyAuthenticator;
  readonly failures: AuthFailureLimiter;
  readonly needsRootKey: (method: DescMethodUnary) => boolean;
}): Middleware {
  /** Lets the call through as the principal, or refuses it and counts the failure. */
  const admit = (principal: Principal | undefined, request: Message, call: Call, next: Invoke) => {
    if (!principal) {
      options.failures.recordFailure(call.peer);
      return Promise.reject(new ConnectError("invalid root key", Code.Unauthenticated));
    }
    call.principal = principal;
    return next(request, call);
  };

  return (next, method) => {
    if (!options.needsRootKey(method)) return next;
    return (request, call) => {
      // Nearly always nobody has failed: then the caller's address (worked out lazily) is not needed.
      if (!options.failures.idle && options.failures.isBlocked(call.peer)) {
        return Promise.reject(
          new ConnectError(
            "too many failed authentications from this address; try again later",
            Code.ResourceExhausted,
          ),
        );
      }
      const header = call.header("authorization");
      if (header === undefined) {
        // A call without a key is a failed authentication like any other, and limited alike.
        options.failures.recordFailure(call.peer);
        return Promise.reject(
          new ConnectError("missing root key: send authorization: Bearer <root key>", Code.Unauthenticated),
        );
      }
      const secret = bearerToken(header);
      const principal = secret === undefined ? undefined : options.authenticate(secret);
      // A remembered root key answers at once; only a lookup costs a promise.
      if (principal instanceof Promise) return principal.then((found) => admit(found, request, call, next));
      return admit(principal, request, call, next);
    };
  };
}
