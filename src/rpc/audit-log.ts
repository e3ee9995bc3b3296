import type { DescMethodUnary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import type { AuditEventRecord } from "../audit/audit-event.js";
import type { Clock } from "../keys/clock.js";
import type { Logger } from "../logger.js";
import type { AuditStore } from "../store/audit-store.js";
import type { Middleware, Response } from "./call.js";
import { toConnectError } from "./error-mapping.js";

/**
 * Records every call of an audited method, whatever its outcome: who (the
 * root key), what (the method), when, on which keyspace and key, how it ended,
 * and from where. It sits outside authentication so that refused callers are
 * recorded too. A record that cannot be written is logged in full (it holds no
 * secret) rather than failing a call that has already taken effect.
 */
export function createAuditLog(options: {
  readonly audit: AuditStore;
  readonly clock: Clock;
  readonly newEventId: () => string;
  readonly logger: Logger;
  readonly audited: (method: DescMethodUnary) => boolean;
}): Middleware {
  return (next, method) => {
    if (!options.audited(method)) return next;
    return async (request, call) => {
      let response: Response | undefined;
      let outcome = "OK";
      try {
        response = await next(request, call);
        return response;
      } catch (error) {
        outcome = codeName(toConnectError(error).code);
        throw error;
      } finally {
        const event: AuditEventRecord = {
          eventId: options.newEventId(),
          time: new Date(options.clock()),
          actorKeyId: call.principal?.keyId ?? "",
          action: method.name,
          keyspaceId: call.target?.keyspaceId ?? "",
          keyId: call.target?.keyId ?? createdKeyId(response),
          outcome,
          peer: call.peer,
          requestId: call.requestId,
        };
        await options.audit.append(event).catch((error: unknown) => {
          options.logger.error({ err: error, auditEvent: event }, "audit event could not be stored");
        });
      }
    };
  };
}

/** "PermissionDenied" → "PERMISSION_DENIED", as gRPC names its codes. */
function codeName(code: Code): string {
  return Code[code].replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}

/** CreateKey learns its key id only from its own answer. */
function createdKeyId(response: Response | undefined): string {
  const keyId = (response as { keyId?: unknown } | undefined)?.keyId;
  return typeof keyId === "string" ? keyId : "";
}
