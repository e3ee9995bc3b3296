import type { KeyspaceChanges, KeyspaceRecord } from "../../keyspaces/keyspace-record.js";
import { keyspacePasses } from "../../ports/keyspace-filter.js";
import type { KeyspaceQuery, KeyspaceRecords } from "../../ports/keyspace-records.js";
import { DuplicateRecordError } from "../../ports/store-errors.js";

/** Keyspaces in this process (dev mode and tests), copied in and out. */
export class MemoryKeyspaceRecords implements KeyspaceRecords {
  private readonly records = new Map<string, KeyspaceRecord>();

  async insert(record: KeyspaceRecord): Promise<void> {
    if (this.records.has(record.keyspaceId)) throw new DuplicateRecordError("keyspace id");
    this.records.set(record.keyspaceId, structuredClone(record));
  }

  async get(keyspaceId: string): Promise<KeyspaceRecord | undefined> {
    const record = this.records.get(keyspaceId);
    return record && structuredClone(record);
  }

  async list(query: KeyspaceQuery): Promise<KeyspaceRecord[]> {
    return [...this.records.values()]
      .filter(
        (record) =>
          (!query.orgId || record.orgId === query.orgId) &&
          keyspacePasses(query.keyspaces, record.keyspaceId) &&
          (!query.afterKeyspaceId || record.keyspaceId > query.afterKeyspaceId),
      )
      .sort((a, b) => (a.keyspaceId < b.keyspaceId ? -1 : 1))
      .slice(0, query.limit)
      .map((record) => structuredClone(record));
  }

  async update(keyspaceId: string, changes: KeyspaceChanges): Promise<KeyspaceRecord | undefined> {
    const current = this.records.get(keyspaceId);
    if (!current) return undefined;
    const next = { ...current, ...structuredClone(changes) };
    this.records.set(keyspaceId, next);
    return structuredClone(next);
  }
}
