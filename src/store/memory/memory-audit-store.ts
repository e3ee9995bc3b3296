import type { AuditEventRecord } from "../../audit/audit-event.js";
import type { AuditQuery, AuditStore } from "../audit-store.js";
import { keyspacePasses } from "../keyspace-filter.js";

/** The audit log in this process (dev mode and tests). Events are kept in id order, which is time order. */
export class MemoryAuditStore implements AuditStore {
  private readonly events: AuditEventRecord[] = [];

  async append(event: AuditEventRecord): Promise<void> {
    this.events.push(structuredClone(event));
    this.events.sort((a, b) => (a.eventId < b.eventId ? -1 : 1));
  }

  async list(query: AuditQuery): Promise<AuditEventRecord[]> {
    const matches: AuditEventRecord[] = [];
    for (let i = this.events.length - 1; i >= 0 && matches.length < query.limit; i--) {
      const event = this.events[i] as AuditEventRecord;
      if (
        keyspacePasses(query.keyspaces, event.keyspaceId) &&
        (!query.actorKeyId || event.actorKeyId === query.actorKeyId) &&
        (!query.action || event.action === query.action) &&
        (!query.keyId || event.keyId === query.keyId) &&
        (!query.from || event.time >= query.from) &&
        (!query.until || event.time < query.until) &&
        (!query.beforeEventId || event.eventId < query.beforeEventId)
      ) {
        matches.push(structuredClone(event));
      }
    }
    return matches;
  }
}
