import type { Collection, Db, Filter } from "mongodb";
import type { AuditEventRecord } from "../../audit/audit-event.js";
import type { AuditQuery, AuditStore } from "../audit-store.js";
import { keyspaceCondition } from "../keyspace-filter.js";
import { mongoCall } from "./mongo-errors.js";
import { withoutId } from "./without-id.js";

const COLLECTION = "audit_events";

/** The audit log in a MongoDB collection; event ids sort by time. */
export class MongoAuditStore implements AuditStore {
  private constructor(private readonly events: Collection<AuditEventRecord>) {}

  static async open(db: Db): Promise<MongoAuditStore> {
    const events = db.collection<AuditEventRecord>(COLLECTION);
    await mongoCall(() =>
      events.createIndexes([
        { key: { eventId: -1 }, name: "eventId_unique", unique: true },
        { key: { keyspaceId: 1, eventId: -1 }, name: "keyspace_list" },
        { key: { actorKeyId: 1, eventId: -1 }, name: "actor_list" },
        { key: { keyId: 1, eventId: -1 }, name: "key_list" },
      ]),
    );
    return new MongoAuditStore(events);
  }

  async append(event: AuditEventRecord): Promise<void> {
    await mongoCall(() => this.events.insertOne({ ...event }));
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
    return documents.map(withoutId);
  }
}
