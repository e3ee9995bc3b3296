import type { DescMethodUnary, Message } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { Authorization } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { RateLimitService } from "../../gen/envoy/service/ratelimit/v3/rls_pb.js";
import { AuditService } from "../../gen/keyward/v1/audit_service_pb.js";
import { KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { KeyspaceService } from "../../gen/keyward/v1/keyspace_service_pb.js";
import { type Action, mayAnywhere } from "../auth/principal.js";
import { KEY_ID_PATTERN } from "../keys/key-id.js";
import { KEYSPACE_ID_PATTERN } from "../keyspaces/keyspace-record.js";
import type { Call, Middleware } from "./call.js";

const K = KeyService.method;
const KS = KeyspaceService.method;

/** The action each method takes, in some keyspace; a method missing here cannot be served. */
export const METHOD_ACTIONS: ReadonlyMap<DescMethodUnary, Action> = new Map<DescMethodUnary, Action>([
  [K.createKey, "create_key"],
  [K.createKeys, "create_key"],
  [K.importKeys, "import_key"],
  [K.getKey, "read_key"],
  [K.listKeys, "read_key"],
  [K.updateKey, "update_key"],
  [K.rerollKey, "update_key"],
  [K.updateCredits, "update_key"],
  [K.revokeKey, "revoke_key"],
  [K.deleteKey, "delete_key"],
  [K.verifyKey, "verify_key"],
  [Authorization.method.check, "verify_key"],
  [RateLimitService.method.shouldRateLimit, "verify_key"],
  [KS.createKeyspace, "create"],
  [KS.getKeyspace, "read"],
  [KS.listKeyspaces, "read"],
  [KS.updateKeyspace, "update"],
  [AuditService.method.listAuditEvents, "read_audit"],
]);

/**
 * "May this caller call this method at all": a caller whose root key cannot
 * take the method's action in any keyspace is refused before its request is
 * read any further (validation included), so that it cannot make Keyward work
 * for it. Sits between authentication and validation; the services still
 * decide, per keyspace, what the caller may touch. Methods that run without a
 * principal (`needsPrincipal` false: verification under
 * KEYWARD_VERIFY_AUTH=none) have nobody to authorize.
 */
export function createMethodAuthorization(options: {
  readonly needsPrincipal: (method: DescMethodUnary) => boolean;
  readonly actions?: ReadonlyMap<DescMethodUnary, Action>;
}): Middleware {
  const actions = options.actions ?? METHOD_ACTIONS;
  return (next, method) => {
    const action = actions.get(method);
    if (!action) throw new Error(`${method.parent.typeName}.${method.name} has no action to authorize`);
    const needsPrincipal = options.needsPrincipal(method);
    return (request, call) => {
      if (!call.principal) {
        if (!needsPrincipal) return next(request, call);
        return Promise.reject(new Error(`${method.name} ran without authentication`));
      }
      if (!mayAnywhere(call.principal, action)) {
        call.target = namedTarget(request);
        return Promise.reject(new ConnectError("permission denied", Code.PermissionDenied));
      }
      return next(request, call);
    };
  };
}

/**
 * The key and keyspace a refused request names, for the audit log, as the
 * services record them; only where they are well-formed, since the request
 * has not been validated.
 */
function namedTarget(request: Message): Call["target"] {
  const { keyId, keyspaceId } = request as { keyId?: unknown; keyspaceId?: unknown };
  return {
    ...(typeof keyId === "string" && KEY_ID_PATTERN.test(keyId) && { keyId }),
    ...(typeof keyspaceId === "string" && KEYSPACE_ID_PATTERN.test(keyspaceId) && { keyspaceId }),
  };
}
