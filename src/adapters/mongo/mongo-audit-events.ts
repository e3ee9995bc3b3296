import type { Collection, Db, Filter } from "mongodb";
import type { AuditEventRecord } from "../../audit/audit-event.js";
import type { AuditEvents, AuditQuery, AuditRetention } from "../../ports/audit-events.js";
import { keyspaceCondition } from "./keyspace-condition.js";
import { mongoCall } from "./mongo-errors.js";
import { withoutId } from "./without-id.js";

const COLLECTION = "audit_events";
const TTL_INDEX = "time_ttl";
const DAY_SECONDS = 86_400;

/**
 * The audit log in a MongoDB collection; event ids sort by time. A TTL index
 * on the event time removes events past the retention (MongoDB's TTL monitor
 * runs about once a minute).
 */
export class MongoAuditEvents implements AuditEvents {
  private constructor(private readonly events: Collection<AuditEventRecord>) {}

  static async open(db: Db, { retentionDays }: AuditRetention = { retentionDays: 0 }): Promise<MongoAuditEvents> {
    const events = db.collection<AuditEventRecord>(COLLECTION);
    await mongoCall(() =>
      events.createIndexes([
        { key: { eventId: -1 }, name: "eventId_unique", unique: true },
        { key: { keyspaceId: 1, eventId: -1 }, name: "keyspace_list" },
        { key: { actorKeyId: 1, eventId: -1 }, name: "actor_list" },
        { key: { keyId: 1, eventId: -1 }, name: "key_list" },
      ]),
    );
    await applyRetention(events, retentionDays * DAY_SECONDS);
    return new MongoAuditEvents(events);
  }

  async append(event: AuditEventRecord): Promise<void> {
    await mongoCall(() => this.events.insertOne({ ...event }));
  }

  async appendMany(events: readonly AuditEventRecord[]): Promise<void> {
    if (events.length === 0) return;
    await mongoCall(() =>
      this.events.insertMany(
        events.map((event) => ({ ...event })),
        { ordered: false },
      ),
    );
  }

  async list(query: AuditQuery): Promise<AuditEventRecord[]> {
    const filter: Filter<AuditEventRecord> = {};
    const keyspaces = keyspaceCondition(query.keyspaces);
    if (keyspaces) filter.keyspaceId = keyspaces;
    if (query.actorKeyId) filter.actorKeyId = query.actorKeyId;
    if (query.action) filter.action = query.action;
    if (query.keyId) filter.keyId = query.keyId;
    if (query.beforeEventId) filter.eventId = { $lt: query.beforeEventId };
    const time: { $gte?: Date; $lt?: Date } = {};
    if (query.from) time.$gte = query.from;
    if (query.until) time.$lt = query.until;
    if (Object.keys(time).length > 0) filter.time = time;
    const documents = await mongoCall(() =>
      this.events.find(filter).sort({ eventId: -1 }).limit(query.limit).toArray(),
    );
    // Events written before `count` existed stand for one call each.
    return documents.map((document) => ({ ...withoutId(document), count: document.count ?? 1 }));
  }
}

/**
 * Makes the TTL index match the retention: created, replaced when the
 * retention changed, dropped when it is 0 (keep for ever). Replaced by drop
 * and create rather than collMod, which the readWrite role does not allow.
 */
async function applyRetention(events: Collection<AuditEventRecord>, expireAfterSeconds: number): Promise<void> {
  const indexes = await mongoCall(() => events.listIndexes().toArray());
  const current = indexes.find((index) => index.name === TTL_INDEX);
  if (current ? current.expireAfterSeconds === expireAfterSeconds : expireAfterSeconds === 0) return;
  if (current) await mongoCall(() => events.dropIndex(TTL_INDEX));
  if (expireAfterSeconds > 0) {
    await mongoCall(() => events.createIndex({ time: 1 }, { name: TTL_INDEX, expireAfterSeconds }));
  }
}
