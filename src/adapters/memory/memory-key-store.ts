import { assertCost } from "../../keys/cost.js";
import { assertLeaseHolder } from "../../keys/credit-lease.js";
import { type KeyChanges, type KeyRecord, secretHashes } from "../../keys/key-record.js";
import type { CreditChange, CreditSpend, LeaseOutcome, LeaseRequest } from "../../ports/credit-ledger.js";
import type { KeyQuery } from "../../ports/key-records.js";
import type { KeyStore } from "../../ports/key-store.js";
import { keyspacePasses } from "../../ports/keyspace-filter.js";
import { DuplicateRecordError } from "../../ports/store-errors.js";
import { USAGE_BATCHES_REMEMBERED, type UsageUpdate } from "../../ports/usage-sink.js";

/**
 * Keeps keys in this process (dev mode and tests). Records are copied in and
 * out so that callers can never change stored state by accident.
 */
export class MemoryKeyStore implements KeyStore {
  private readonly records = new Map<string, KeyRecord>();
  private readonly keyIdByHash = new Map<string, string>();
  /** The latest usage batch ids each key applied, as MongoDB keeps them in `usageBatches`. */
  private readonly usageBatches = new Map<string, string[]>();
  /** Each key's outstanding credit leases by holder, as MongoDB keeps them in `creditLeases`. */
  private readonly leases = new Map<string, Map<string, { leaseId: string; amount: number; expiresAt: Date }>>();

  async insert(record: KeyRecord): Promise<void> {
    if (this.records.has(record.keyId)) throw new DuplicateRecordError("key id");
    if (secretHashes(record).some((hash) => this.keyIdByHash.has(hash))) throw new DuplicateRecordError("key hash");
    this.store(structuredClone(record));
  }

  async insertMany(records: readonly KeyRecord[]): Promise<readonly (Error | undefined)[]> {
    const outcomes: (Error | undefined)[] = [];
    for (const record of records) outcomes.push(await this.insert(record).then(() => undefined, asError));
    return outcomes;
  }

  async get(keyId: string): Promise<KeyRecord | undefined> {
    return copy(this.records.get(keyId));
  }

  async findByHash(hash: string): Promise<KeyRecord | undefined> {
    const keyId = this.keyIdByHash.get(hash);
    return keyId === undefined ? undefined : copy(this.records.get(keyId));
  }

  async list(query: KeyQuery): Promise<KeyRecord[]> {
    const matches = [...this.records.values()]
      .filter(
        (record) =>
          keyspacePasses(query.keyspaces, record.keyspaceId) &&
          (!query.ownerId || record.ownerId === query.ownerId) &&
          (!query.orgId || record.orgId === query.orgId) &&
          (!query.afterKeyId || record.keyId > query.afterKeyId),
      )
      .sort((a, b) => (a.keyId < b.keyId ? -1 : 1));
    return matches.slice(0, query.limit).map((record) => structuredClone(record));
  }

  async update(keyId: string, changes: KeyChanges): Promise<KeyRecord | undefined> {
    const current = this.records.get(keyId);
    if (!current) return undefined;
    const next: KeyRecord = { ...current, ...structuredClone(changes) };
    if ("remaining" in changes) this.leases.delete(keyId);
    this.forget(current);
    this.store(next);
    return structuredClone(next);
  }

  async spendCredits(keyId: string, cost: number): Promise<CreditSpend | undefined> {
    assertCost(cost);
    const record = this.records.get(keyId);
    if (record?.remaining === undefined) return undefined;
    const spent = record.remaining >= cost;
    if (spent) record.remaining -= cost;
    return { spent, remaining: record.remaining };
  }

  async refillCredits(keyId: string, amount: number, periodStart: Date, now: Date): Promise<boolean> {
    const record = this.records.get(keyId);
    const last = record?.refill?.lastRefilledAt;
    if (!record?.refill || record.remaining === undefined || (last && last >= periodStart)) return false;
    record.remaining = amount;
    record.refill = { ...record.refill, lastRefilledAt: now };
    this.leases.delete(keyId);
    return true;
  }

  async changeCredits(keyId: string, change: CreditChange): Promise<number | undefined> {
    const record = this.records.get(keyId);
    if (record?.remaining === undefined) return undefined;
    record.remaining = "add" in change ? record.remaining + change.add : change.set;
    if ("set" in change) this.leases.delete(keyId);
    return record.remaining;
  }

  async leaseCredits(keyId: string, request: LeaseRequest): Promise<LeaseOutcome | undefined> {
    assertCost(request.take);
    assertLeaseHolder(request.holder);
    if (request.previous) assertCost(request.previous.unspent);
    const record = this.records.get(keyId);
    if (record?.remaining === undefined) return undefined;
    const held = this.leases.get(keyId) ?? new Map();
    const previous = request.previous && held.get(request.holder);
    const previousVoid = request.previous !== undefined && previous?.leaseId !== request.previous.leaseId;
    const giveBack = previousVoid ? 0 : (request.previous?.unspent ?? 0);
    if (previousVoid || record.remaining + giveBack < request.take) {
      return { granted: false, remaining: record.remaining, previousVoid };
    }
    record.remaining += giveBack - request.take;
    for (const [holder, lease] of held) {
      if (holder !== request.holder && lease.expiresAt < request.dropExpiredBefore) held.delete(holder);
    }
    held.set(request.holder, { leaseId: request.leaseId, amount: request.take, expiresAt: request.expiresAt });
    this.leases.set(keyId, held);
    return { granted: true, remaining: record.remaining, previousVoid: false };
  }

  async returnCredits(keyId: string, holder: string, leaseId: string, unspent: number): Promise<boolean> {
    assertCost(unspent);
    assertLeaseHolder(holder);
    const record = this.records.get(keyId);
    const held = this.leases.get(keyId);
    if (record?.remaining === undefined || held?.get(holder)?.leaseId !== leaseId) return false;
    held.delete(holder);
    record.remaining += unspent;
    return true;
  }

  async recordUsage(updates: readonly UsageUpdate[]): Promise<void> {
    for (const { keyId, batchId, counts, lastUsedAt } of updates) {
      const record = this.records.get(keyId);
      const applied = this.usageBatches.get(keyId) ?? [];
      if (!record) this.usageBatches.delete(keyId);
      if (!record || applied.includes(batchId)) continue;
      this.usageBatches.set(keyId, [...applied, batchId].slice(-USAGE_BATCHES_REMEMBERED));
      const usage = { ...record.usage };
      for (const [outcome, count] of Object.entries(counts) as [keyof typeof usage, number][]) {
        usage[outcome] = (usage[outcome] ?? 0) + count;
      }
      record.usage = usage;
      if (lastUsedAt && (!record.lastUsedAt || lastUsedAt > record.lastUsedAt)) record.lastUsedAt = lastUsedAt;
    }
  }

  async delete(keyId: string): Promise<boolean> {
    const record = this.records.get(keyId);
    if (record) this.forget(record);
    this.leases.delete(keyId);
    return record !== undefined;
  }

  private store(record: KeyRecord): void {
    this.records.set(record.keyId, record);
    for (const hash of secretHashes(record)) this.keyIdByHash.set(hash, record.keyId);
  }

  private forget(record: KeyRecord): void {
    this.records.delete(record.keyId);
    for (const hash of secretHashes(record)) this.keyIdByHash.delete(hash);
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function copy(record: KeyRecord | undefined): KeyRecord | undefined {
  return record && structuredClone(record);
}
