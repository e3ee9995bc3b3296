import type { KeyspaceChanges, KeyspaceRecord } from "../keyspaces/keyspace-record.js";
import type { KeyspaceFilter } from "./keyspace-filter.js";

/** Which keyspaces ListKeyspaces wants. */
export interface KeyspaceQuery {
  readonly orgId?: string | undefined;
  /** The keyspaces the caller may see. */
  readonly keyspaces?: KeyspaceFilter | undefined;
  /** Only keyspaces whose id sorts after this one (the page token). */
  readonly afterKeyspaceId?: string | undefined;
  readonly limit: number;
}

/** Where keyspace records live. Adapters translate; they decide nothing. */
export interface KeyspaceRecords {
  /** Stores a new keyspace; DuplicateRecordError when the id is taken (on stores that enforce it). */
  insert(record: KeyspaceRecord): Promise<void>;
  get(keyspaceId: string): Promise<KeyspaceRecord | undefined>;
  /** Keyspaces matching the query, ordered by id. */
  list(query: KeyspaceQuery): Promise<KeyspaceRecord[]>;
  /** Applies the changes and returns the keyspace as it is now, or undefined when there is none. */
  update(keyspaceId: string, changes: KeyspaceChanges): Promise<KeyspaceRecord | undefined>;
}
