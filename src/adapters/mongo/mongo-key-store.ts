import { type Collection, type Db, type Filter, MongoBulkWriteError } from "mongodb";
import { assertCost } from "../../keys/cost.js";
import type { KeyChanges, KeyRecord } from "../../keys/key-record.js";
import type { Logger } from "../../observability/logger.js";
import { CorruptRecordError } from "../../ports/corrupt-record-error.js";
import type { CreditChange, CreditSpend } from "../../ports/credit-ledger.js";
import type { KeyQuery } from "../../ports/key-records.js";
import type { KeyStore } from "../../ports/key-store.js";
import { DuplicateRecordError } from "../../ports/store-errors.js";
import { USAGE_BATCHES_REMEMBERED, type UsageUpdate } from "../../ports/usage-sink.js";
import { fromDocument, type KeyDocument, toDocument, toUpdate } from "./key-document.js";
import { keyspaceCondition } from "./keyspace-condition.js";
import { mongoCall, translateMongoError } from "./mongo-errors.js";

const COLLECTION = "keys";
const DUPLICATE_KEY = 11000;

/**
 * Key records in a MongoDB collection. Every method is a single-document
 * operation. Every document read is checked: one that does not decode is an
 * error for that key alone (CorruptRecordError), which listings skip and log.
 */
export class MongoKeyStore implements KeyStore {
  private constructor(
    private readonly keys: Collection<KeyDocument>,
    private readonly logger: Logger,
  ) {}

  /** Opens the collection and creates its indexes (idempotent; MongoDB skips existing ones). */
  static async open(db: Db, logger: Logger): Promise<MongoKeyStore> {
    const keys = db.collection<KeyDocument>(COLLECTION);
    await mongoCall(() =>
      keys.createIndexes([
        { key: { keyId: 1 }, name: "keyId_unique", unique: true },
        { key: { hash: 1 }, name: "hash_unique", unique: true },
        // Not unique: keys without retired secrets would all index the same empty value.
        { key: { "retiredSecrets.hash": 1 }, name: "retired_hash" },
        { key: { keyspaceId: 1, keyId: 1 }, name: "keyspace_list" },
        { key: { ownerId: 1, keyId: 1 }, name: "owner_list" },
        { key: { orgId: 1, keyId: 1 }, name: "org_list" },
      ]),
    );
    return new MongoKeyStore(keys, logger);
  }

  async insert(record: KeyRecord): Promise<void> {
    await mongoCall(() => this.keys.insertOne(toDocument(record)));
  }

  async insertMany(records: readonly KeyRecord[]): Promise<readonly (Error | undefined)[]> {
    const outcomes: (Error | undefined)[] = records.map(() => undefined);
    if (records.length === 0) return outcomes;
    try {
      // Unordered: one duplicate stops nothing; each failed document is named by its index.
      await this.keys.insertMany(records.map(toDocument), { ordered: false });
    } catch (error) {
      if (!(error instanceof MongoBulkWriteError)) throw translateMongoError(error);
      const failed = [error.writeErrors].flat();
      if (failed.length === 0) throw translateMongoError(error);
      for (const writeError of failed) {
        outcomes[writeError.index] =
          writeError.code === DUPLICATE_KEY
            ? new DuplicateRecordError("key", { cause: error })
            : new Error(`MongoDB refused the document (code ${writeError.code})`, { cause: error });
      }
    }
    return outcomes;
  }

  async get(keyId: string): Promise<KeyRecord | undefined> {
    return this.findOne({ keyId });
  }

  async findByHash(hash: string): Promise<KeyRecord | undefined> {
    return this.findOne({ $or: [{ hash }, { "retiredSecrets.hash": hash }] });
  }

  async list(query: KeyQuery): Promise<KeyRecord[]> {
    const filter: Filter<KeyDocument> = {};
    const keyspaces = keyspaceCondition(query.keyspaces);
    if (keyspaces) filter.keyspaceId = keyspaces;
    if (query.ownerId) filter.ownerId = query.ownerId;
    if (query.orgId) filter.orgId = query.orgId;
    if (query.afterKeyId) filter.keyId = { $gt: query.afterKeyId };
    // A damaged document is left out, and the next batch fills its place, so that a page is never short
    // (a short page would read as the last one).
    const records: KeyRecord[] = [];
    for (let skip = 0; ; skip += query.limit) {
      const documents = await mongoCall(() =>
        this.keys.find(filter).sort({ keyId: 1 }).skip(skip).limit(query.limit).toArray(),
      );
      for (const document of documents) {
        const record = this.readableOrLogged(document);
        if (record) records.push(record);
        if (records.length === query.limit) return records;
      }
      if (documents.length < query.limit) return records;
    }
  }

  async update(keyId: string, changes: KeyChanges): Promise<KeyRecord | undefined> {
    const document = await mongoCall(() =>
      this.keys.findOneAndUpdate({ keyId }, toUpdate(changes), { returnDocument: "after" }),
    );
    return document ? fromDocument(document) : undefined;
  }

  async spendCredits(keyId: string, cost: number): Promise<CreditSpend | undefined> {
    assertCost(cost);
    const spent = await mongoCall(() =>
      this.keys.findOneAndUpdate(
        { keyId, remaining: { $gte: cost } },
        { $inc: { remaining: -cost } },
        { returnDocument: "after", projection: { remaining: 1 } },
      ),
    );
    if (spent?.remaining !== undefined) return { spent: true, remaining: spent.remaining };
    // Not enough left (or no limit): say how many there are, without taking any.
    const current = await mongoCall(() => this.keys.findOne({ keyId }, { projection: { remaining: 1 } }));
    return current?.remaining === undefined ? undefined : { spent: false, remaining: current.remaining };
  }

  async refillCredits(keyId: string, amount: number, periodStart: Date, now: Date): Promise<boolean> {
    const result = await mongoCall(() =>
      this.keys.updateOne(
        {
          keyId,
          remaining: { $exists: true },
          $or: [
            { "refill.lastRefilledAt": { $lt: periodStart } },
            { "refill.lastRefilledAt": { $exists: false }, refill: { $exists: true } },
          ],
        },
        { $set: { remaining: amount, "refill.lastRefilledAt": now } },
      ),
    );
    return result.modifiedCount === 1;
  }

  async changeCredits(keyId: string, change: CreditChange): Promise<number | undefined> {
    const update = "add" in change ? { $inc: { remaining: change.add } } : { $set: { remaining: change.set } };
    const document = await mongoCall(() =>
      this.keys.findOneAndUpdate({ keyId, remaining: { $exists: true } }, update, {
        returnDocument: "after",
        projection: { remaining: 1 },
      }),
    );
    return document?.remaining;
  }

  async recordUsage(updates: readonly UsageUpdate[]): Promise<void> {
    if (updates.length === 0) return;
    // Each key keeps the ids of the batches it applied last (`usageBatches`); an update
    // whose batch is among them is skipped, so a batch retried after an unordered
    // bulkWrite failed part-way adds each key's counts once.
    const operations = updates.map(({ keyId, batchId, counts, lastUsedAt }) => ({
      updateOne: {
        filter: { keyId, usageBatches: { $ne: batchId } },
        update: {
          $inc: Object.fromEntries(Object.entries(counts).map(([outcome, count]) => [`usage.${outcome}`, count])),
          $push: { usageBatches: { $each: [batchId], $slice: -USAGE_BATCHES_REMEMBERED } },
          ...(lastUsedAt && { $max: { lastUsedAt } }),
        },
      },
    }));
    await mongoCall(() => this.keys.bulkWrite(operations, { ordered: false }));
  }

  async delete(keyId: string): Promise<boolean> {
    const result = await mongoCall(() => this.keys.deleteOne({ keyId }));
    return result.deletedCount === 1;
  }

  private async findOne(filter: Filter<KeyDocument>): Promise<KeyRecord | undefined> {
    const document = await mongoCall(() => this.keys.findOne(filter));
    return document ? fromDocument(document) : undefined;
  }

  /** The document as a record; a damaged one is logged (its key id and where it is damaged, never its contents). */
  private readableOrLogged(document: object): KeyRecord | undefined {
    try {
      return fromDocument(document);
    } catch (error) {
      if (!(error instanceof CorruptRecordError)) throw error;
      this.logger.warn(
        { keyId: error.keyId, keyspaceId: error.keyspaceId, problems: error.problems },
        "a stored key record cannot be read; it is left out of listings until it is repaired or deleted in MongoDB",
      );
      return undefined;
    }
  }
}
