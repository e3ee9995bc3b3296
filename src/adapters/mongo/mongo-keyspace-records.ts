import type { Collection, Db, Filter } from "mongodb";
import type { KeyspaceChanges, KeyspaceRecord } from "../../keyspaces/keyspace-record.js";
import type { KeyspaceQuery, KeyspaceRecords } from "../../ports/keyspace-records.js";
import { keyspaceCondition } from "./keyspace-condition.js";
import { mongoCall } from "./mongo-errors.js";
import { withoutId } from "./without-id.js";

const COLLECTION = "keyspaces";

/** Keyspace records in a MongoDB collection, found by their own indexed `keyspaceId`. */
export class MongoKeyspaceRecords implements KeyspaceRecords {
  private constructor(private readonly keyspaces: Collection<KeyspaceRecord>) {}

  /** Opens the collection and creates its indexes. */
  static async open(db: Db): Promise<MongoKeyspaceRecords> {
    const keyspaces = db.collection<KeyspaceRecord>(COLLECTION);
    await mongoCall(() =>
      keyspaces.createIndexes([
        { key: { keyspaceId: 1 }, name: "keyspaceId_unique", unique: true },
        { key: { orgId: 1, keyspaceId: 1 }, name: "org_list" },
      ]),
    );
    return new MongoKeyspaceRecords(keyspaces);
  }

  async insert(record: KeyspaceRecord): Promise<void> {
    await mongoCall(() => this.keyspaces.insertOne({ ...record }));
  }

  async get(keyspaceId: string): Promise<KeyspaceRecord | undefined> {
    const document = await mongoCall(() => this.keyspaces.findOne({ keyspaceId }));
    return document ? withoutId(document) : undefined;
  }

  async list(query: KeyspaceQuery): Promise<KeyspaceRecord[]> {
    const filter: Filter<KeyspaceRecord> = {};
    if (query.orgId) filter.orgId = query.orgId;
    const idRange = {
      ...keyspaceCondition(query.keyspaces),
      ...(query.afterKeyspaceId && { $gt: query.afterKeyspaceId }),
    };
    if (Object.keys(idRange).length > 0) filter.keyspaceId = idRange;
    const documents = await mongoCall(() =>
      this.keyspaces.find(filter).sort({ keyspaceId: 1 }).limit(query.limit).toArray(),
    );
    return documents.map(withoutId);
  }

  async update(keyspaceId: string, changes: KeyspaceChanges): Promise<KeyspaceRecord | undefined> {
    const document = await mongoCall(() =>
      this.keyspaces.findOneAndUpdate({ keyspaceId }, { $set: changes }, { returnDocument: "after" }),
    );
    return document ? withoutId(document) : undefined;
  }
}
