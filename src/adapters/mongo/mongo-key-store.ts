import { type Collection, type Db, type Filter, MongoBulkWriteError } from "mongodb";
import { assertCost } from "../../keys/cost.js";
import { assertLeaseHolder, isLeaseHolder } from "../../keys/credit-lease.js";
import type { KeyChanges, KeyRecord } from "../../keys/key-record.js";
import type { Logger } from "../../observability/logger.js";
import { CorruptRecordError } from "../../ports/corrupt-record-error.js";
import type { CreditChange, CreditSpend, LeaseOutcome, LeaseRequest } from "../../ports/credit-ledger.js";
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
 * Credit leases sit on the key document beside `remaining`, by holder
 * (`creditLeases.<holder>`), outside the record: they never reach a cache.
 */
interface StoredLease {
  readonly leaseId: string;
  readonly amount: number;
  readonly expiresAt: Date;
}
type LeasesDocument = { remaining?: number; creditLeases?: Record<string, StoredLease> };
/** Clearing the leases voids them: what they held is not given back. */
const VOID_LEASES = { creditLeases: "" } as const;

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
    const update = toUpdate(changes);
    // Credits set by hand void every lease, as changeCredits with `set` does.
    if ("remaining" in changes) update.$unset = { ...update.$unset, ...VOID_LEASES };
    const document = await mongoCall(() => this.keys.findOneAndUpdate({ keyId }, update, { returnDocument: "after" }));
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
        { $set: { remaining: amount, "refill.lastRefilledAt": now }, $unset: VOID_LEASES },
      ),
    );
    return result.modifiedCount === 1;
  }

  async changeCredits(keyId: string, change: CreditChange): Promise<number | undefined> {
    const update =
      "add" in change ? { $inc: { remaining: change.add } } : { $set: { remaining: change.set }, $unset: VOID_LEASES };
    const document = await mongoCall(() =>
      this.keys.findOneAndUpdate({ keyId, remaining: { $exists: true } }, update, {
        returnDocument: "after",
        projection: { remaining: 1 },
      }),
    );
    return document?.remaining;
  }

  async leaseCredits(keyId: string, request: LeaseRequest): Promise<LeaseOutcome | undefined> {
    assertCost(request.take);
    if (request.previous) assertCost(request.previous.unspent);
    const field = `creditLeases.${holderField(request.holder)}`;
    const giveBack = request.previous?.unspent ?? 0;
    const filter = {
      keyId,
      remaining: { $gte: request.take - giveBack },
      ...(request.previous && { [`${field}.leaseId`]: request.previous.leaseId }),
    };
    const lease: StoredLease = { leaseId: request.leaseId, amount: request.take, expiresAt: request.expiresAt };
    const granted = await mongoCall(() =>
      this.leases.findOneAndUpdate(
        filter,
        { $inc: { remaining: giveBack - request.take }, $set: { [field]: lease } },
        { returnDocument: "after", projection: { remaining: 1, creditLeases: 1 } },
      ),
    );
    if (granted?.remaining !== undefined) {
      await this.dropExpiredLeases(keyId, request.holder, granted.creditLeases, request.dropExpiredBefore);
      return { granted: true, remaining: granted.remaining, previousVoid: false };
    }
    // Too few credits, a void previous lease, or no limit: say which, changing nothing.
    const current = await mongoCall(() => this.leases.findOne({ keyId }, { projection: { remaining: 1, [field]: 1 } }));
    if (current?.remaining === undefined) return undefined;
    const standing = current.creditLeases?.[request.holder]?.leaseId;
    const previousVoid = request.previous !== undefined && standing !== request.previous.leaseId;
    return { granted: false, remaining: current.remaining, previousVoid };
  }

  async returnCredits(keyId: string, holder: string, leaseId: string, unspent: number): Promise<boolean> {
    assertCost(unspent);
    const field = `creditLeases.${holderField(holder)}`;
    const result = await mongoCall(() =>
      this.leases.updateOne(
        { keyId, remaining: { $exists: true }, [`${field}.leaseId`]: leaseId },
        { $inc: { remaining: unspent }, $unset: { [field]: "" } },
      ),
    );
    return result.modifiedCount === 1;
  }

  /**
   * Drops leases of other holders that expired long ago (a replica that died
   * holding them): what they held counts as spent. Only when there are such
   * leases, and only if each is still the one seen, so a renewed lease stays.
   */
  private async dropExpiredLeases(
    keyId: string,
    holder: string,
    leases: Record<string, StoredLease> | undefined,
    before: Date,
  ): Promise<void> {
    const expired = Object.entries(leases ?? {}).filter(
      ([other, lease]) => other !== holder && isLeaseHolder(other) && lease.expiresAt < before,
    );
    if (expired.length === 0) return;
    const filter = Object.fromEntries(
      expired.map(([other, lease]) => [`creditLeases.${other}.leaseId`, lease.leaseId]),
    );
    const unset = Object.fromEntries(expired.map(([other]) => [`creditLeases.${other}`, "" as const]));
    await mongoCall(() => this.leases.updateOne({ keyId, ...filter }, { $unset: unset }));
  }

  /** The same collection, seen with the lease fields that records leave out. */
  private get leases(): Collection<LeasesDocument & { keyId: string }> {
    return this.keys as unknown as Collection<LeasesDocument & { keyId: string }>;
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

/** A holder names a field: never a dot or a dollar sign. */
function holderField(holder: string): string {
  assertLeaseHolder(holder);
  return holder;
}
