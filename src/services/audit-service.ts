import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { AuditEventSchema } from "../../gen/keyward/v1/audit_pb.js";
import type { AuditService } from "../../gen/keyward/v1/audit_service_pb.js";
import type { AuditEventRecord } from "../audit/audit-event.js";
import type { ServiceHandlers } from "../chain/call.js";
import type { AuditEvents } from "../ports/audit-events.js";
import { visibleKeyspaces } from "./authorization.js";
import { toTimestamp } from "./key-mapping.js";
import { decodePageToken, pageLimit, toPage } from "./page-token.js";

const EVENT_ID_PATTERN = /^evt_[0-9A-HJKMNP-TV-Z]{26}$/;

/** AuditService: the audit log, newest first, limited to the keyspaces the caller may audit. */
export function createAuditService(audit: AuditEvents): ServiceHandlers<typeof AuditService> {
  return {
    async listAuditEvents(request, call) {
      const events = await audit.list({
        keyspaces: visibleKeyspaces(call, "read_audit", request.keyspaceId),
        actorKeyId: request.actorKeyId,
        action: request.action,
        keyId: request.keyId,
        from: request.startTime && timestampDate(request.startTime),
        until: request.endTime && timestampDate(request.endTime),
        beforeEventId: decodePageToken(request.pageToken, EVENT_ID_PATTERN),
        limit: pageLimit(request.pageSize),
      });
      const { page, nextPageToken } = toPage(events, request.pageSize, (event) => event.eventId);
      return { events: page.map(toAuditEventMessage), nextPageToken };
    },
  };
}

function toAuditEventMessage(event: AuditEventRecord) {
  return create(AuditEventSchema, { ...event, time: toTimestamp(event.time) });
}
