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
    // Ids mostly arrive in order: each is put in its place, not the whole log sorted again per event.
    for (const event of structuredClone(events)) {
      const last = this.events.at(-1);
      if (!last || last.eventId <= event.eventId) this.events.push(event);
      else this.events.splice(this.placeOf(event.eventId), 0, event);
    }
  }

  async list(query: AuditQuery): Promise<AuditEventRecord[]> {
    this.dropExpired();
    // An event made while the clock stood further back may sit behind a newer one, past the drop.
    const oldestKept = this.retentionMs === 0 ? Number.NEGATIVE_INFINITY : this.clock() - this.retentionMs;
    const matches: AuditEventRecord[] = [];
    for (let i = this.events.length - 1; i >= 0 && matches.length < query.limit; i--) {
      const event = this.events[i] as AuditEventRecord;
      if (
        event.time.getTime() > oldestKept &&
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

  /** Where an event with this id belongs: after every event with an id not above it. */
  private placeOf(eventId: string): number {
    let [low, high] = [0, this.events.length];
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.events[middle] as AuditEventRecord).eventId <= eventId) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /**
   * Drops events past the retention. Events are in time order, so the expired
   * ones lead: this costs what it drops, not the size of the log (filtering
   * the whole log on every append made CreateKey slower with every key).
   */
  private dropExpired(): void {
    if (this.retentionMs === 0) return;
    const oldestKept = this.clock() - this.retentionMs;
    let expired = 0;
    while (expired < this.events.length && (this.events[expired] as AuditEventRecord).time.getTime() <= oldestKept) {
      expired++;
    }
    if (expired > 0) this.events.splice(0, expired);
  }
}
