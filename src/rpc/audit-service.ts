import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { AuditEventSchema } from "../../gen/keyward/v1/audit_pb.js";
import type { AuditService } from "../../gen/keyward/v1/audit_service_pb.js";
import type { AuditEventRecord } from "../audit/audit-event.js";
import type { AuditStore } from "../store/audit-store.js";
import { visibleKeyspaces } from "./authorization.js";
import type { ServiceHandlers } from "./call.js";
import { toTimestamp } from "./key-mapping.js";
import { decodePageToken, encodePageToken } from "./page-token.js";

const EVENT_ID_PATTERN = /^evt_[0-9A-HJKMNP-TV-Z]{26}$/;
const DEFAULT_PAGE_SIZE = 100;

/** AuditService: the audit log, newest first, limited to the keyspaces the caller may audit. */
export function createAuditService(audit: AuditStore): ServiceHandlers<typeof AuditService> {
  return {
    async listAuditEvents(request, call) {
      const limit = request.pageSize || DEFAULT_PAGE_SIZE;
      const events = await audit.list({
        keyspaces: visibleKeyspaces(call, "read_audit", request.keyspaceId),
        actorKeyId: request.actorKeyId,
        action: request.action,
        keyId: request.keyId,
        from: request.startTime && timestampDate(request.startTime),
        until: request.endTime && timestampDate(request.endTime),
        beforeEventId: decodePageToken(request.pageToken, EVENT_ID_PATTERN),
        limit: limit + 1,
      });
      const page = events.slice(0, limit);
      const last = page.at(-1);
      return {
        events: page.map(toAuditEventMessage),
        nextPageToken: events.length > limit && last ? encodePageToken(last.eventId) : "",
      };
    },
  };
}

function toAuditEventMessage(event: AuditEventRecord) {
  return create(AuditEventSchema, { ...event, time: toTimestamp(event.time) });
}
