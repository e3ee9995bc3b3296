import type { AuditEventRecord } from "../../audit/audit-event.js";
import { type Clock, systemClock } from "../../keys/clock.js";
import type { AuditEvents, AuditQuery, AuditRetention } from "../../ports/audit-events.js";
import { keyspacePasses } from "../../ports/keyspace-filter.js";

const DAY_MS = 86_400_000;

/**
 * The audit log in this process (dev mode and tests). Events are kept in id
 * order, which is time order. Events past the retention are dropped here, as
 * MongoDB's TTL index drops them there; like MongoDB, by the wall clock unless
 * a clock is given.
 */
export class MemoryAuditEvents implements AuditEvents {
  private events: AuditEventRecord[] = [];
  private readonly retentionMs: number;
  private readonly clock: Clock;

  constructor({ retentionDays = 0, clock = systemClock }: Partial<AuditRetention> & { clock?: Clock } = {}) {
    this.retentionMs = retentionDays * DAY_MS;
    this.clock = clock;
  }

  async append(event: AuditEventRecord): Promise<void> {
    return this.appendMany([event]);
  }

  async appendMany(events: readonly AuditEventRecord[]): Promise<void> {
    this.dropExpired();
    this.events.push(...structuredClone(events));
    this.events.sort((a, b) => (a.eventId < b.eventId ? -1 : 1));
  }

  async list(query: AuditQuery): Promise<AuditEventRecord[]> {
    this.dropExpired();
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

  private dropExpired(): void {
    if (this.retentionMs === 0) return;
    const oldestKept = this.clock() - this.retentionMs;
    this.events = this.events.filter((event) => event.time.getTime() > oldestKept);
  }
}
