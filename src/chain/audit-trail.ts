import type { DescMethodUnary } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import type { AuditEventRecord } from "../audit/audit-event.js";
import type { Clock } from "../keys/clock.js";
import type { Logger } from "../observability/logger.js";
import type { AuditEvents } from "../ports/audit-events.js";
import type { Middleware, Reply } from "./call.js";
import { codeName } from "./code-names.js";
import { peerAddress } from "./peer-address.js";
import type { RefusalAudit } from "./refusal-audit.js";

/**
 * Records every call of an audited method, whatever its outcome: who (the
 * root key), what (the method), when, on which keyspace and key, how it ended,
 * and from where. It sits outside authentication so that refused callers are
 * recorded too; but a call that ends without a principal (refused before
 * authentication) is only counted in `refusals`, which writes one event per
 * address, method and outcome per interval: callers without a root key cannot
 * fill the log or slow the calls of those with one. A record that cannot be
 * written is logged in full (it holds no secret) rather than failing a call
 * that has already taken effect.
 */
export function createAuditLog(options: {
  readonly audit: AuditEvents;
  readonly refusals: Pick<RefusalAudit, "record">;
  readonly clock: Clock;
  /** An event id for an event at this time (ids sort by time). */
  readonly newEventId: (time: number) => string;
  readonly logger: Logger;
  readonly audited: (method: DescMethodUnary) => boolean;
}): Middleware {
  return (next, method) => {
    if (!options.audited(method)) return next;
    return async (request, call) => {
      let response: Reply | undefined;
      let outcome = "OK";
      try {
        response = await next(request, call);
        return response;
      } catch (error) {
        // Errors arrive mapped (the error-mapping step sits inside this one).
        outcome = codeName(ConnectError.from(error).code);
        throw error;
      } finally {
        const now = options.clock();
        if (!call.principal) {
          options.refusals.record({
            address: peerAddress(call.peer),
            action: method.name,
            outcome,
            time: new Date(now),
            requestId: call.requestId,
          });
        } else if (call.items && outcome === "OK") {
          // A batch: one event per item, as if each had been its own call.
          const events = call.items.map(
            (item): AuditEventRecord => ({
              eventId: options.newEventId(now),
              time: new Date(now),
              actorKeyId: call.principal?.keyId ?? "",
              action: method.name,
              ...item,
              peer: call.peer,
              requestId: call.requestId,
              count: 1,
            }),
          );
          await options.audit.appendMany(events).catch((error: unknown) => {
            options.logger.error({ err: error, auditEvents: events }, "audit events could not be stored");
          });
        } else {
          const event: AuditEventRecord = {
            eventId: options.newEventId(now),
            time: new Date(now),
            actorKeyId: call.principal.keyId,
            action: method.name,
            keyspaceId: call.target?.keyspaceId ?? "",
            keyId: call.target?.keyId ?? createdKeyId(response),
            outcome,
            peer: call.peer,
            requestId: call.requestId,
            count: 1,
          };
          await options.audit.append(event).catch((error: unknown) => {
            options.logger.error({ err: error, auditEvent: event }, "audit event could not be stored");
          });
        }
      }
    };
  };
}

/** CreateKey learns its key id only from its own answer. */
function createdKeyId(response: Reply | undefined): string {
  const keyId = (response as { keyId?: unknown } | undefined)?.keyId;
  return typeof keyId === "string" ? keyId : "";
}
