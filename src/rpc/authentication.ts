import type { DescMethodUnary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { AuthFailureLimiter } from "./auth-failure-limiter.js";
import type { Middleware } from "./call.js";
import type { RootKeyAuthenticator } from "./root-key-authenticator.js";

const BEARER = /^Bearer\s+(\S+)\s*$/i;

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
  return (next, method) => {
    if (!options.needsRootKey(method)) return next;
    return async (request, call) => {
      if (options.failures.isBlocked(call.peer)) {
        throw new ConnectError(
          "too many failed authentications from this address; try again later",
          Code.ResourceExhausted,
        );
      }
      const header = call.header("authorization");
      if (header === undefined) {
        throw new ConnectError("missing root key: send authorization: Bearer <root key>", Code.Unauthenticated);
      }
      const secret = header.match(BEARER)?.[1];
      const principal = secret === undefined ? undefined : await options.authenticate(secret);
      if (!principal) {
        options.failures.recordFailure(call.peer);
        throw new ConnectError("invalid root key", Code.Unauthenticated);
      }
      call.principal = principal;
      return next(request, call);
    };
  };
}
