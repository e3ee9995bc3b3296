import type { KeyChanges, KeyRecord } from "../keys/key-record.js";
import type { VerifiableKey } from "../keys/verifiable-key.js";
import type { KeyspaceFilter } from "./keyspace-filter.js";

/** Which keys ListKeys wants; empty fields match everything. */
export interface KeyQuery {
  readonly keyspaces?: KeyspaceFilter | undefined;
  readonly ownerId?: string | undefined;
  readonly orgId?: string | undefined;
  /** Only keys whose id sorts after this one (the page token). */
  readonly afterKeyId?: string | undefined;
  readonly limit: number;
}

/**
 * Where key records live. Adapters translate, they decide nothing: every rule
 * about keys sits in the domain and the services. Each method is atomic on one
 * key; none needs a transaction.
 */
export interface KeyRecords {
  /** Stores a new key; DuplicateRecordError when its id or a hash is taken (on stores that enforce it). */
  insert(record: KeyRecord): Promise<void>;
  /**
   * Stores new keys in one round trip, each on its own: the answer has one
   * entry per record, in order: undefined when it was stored, the error it met
   * otherwise (DuplicateRecordError when its id or a hash is taken, by another
   * key or an earlier record of the batch, on stores that enforce it). Throws
   * only when the store could not be asked at all (then some may be stored).
   */
  insertMany(records: readonly KeyRecord[]): Promise<readonly (Error | undefined)[]>;
  /** The key with this id, if any. */
  get(keyId: string): Promise<KeyRecord | undefined>;
  /**
   * The key whose current or retired secret has this hash, if any, as
   * verification reads it: caches answer this lookup with what they keep, so
   * it never promises the full record (a store may answer it, as it is a VerifiableKey too).
   */
  findByHash(hash: string): Promise<VerifiableKey | undefined>;
  /** Keys matching the query, ordered by key id (creation order). */
  list(query: KeyQuery): Promise<KeyRecord[]>;
  /** Applies the changes to the key and returns it as it is now, or undefined when there is no such key. */
  update(keyId: string, changes: KeyChanges): Promise<KeyRecord | undefined>;
  /** Removes the key; answers whether it existed. */
  delete(keyId: string): Promise<boolean>;
}

/** Finds keys by the hash of a presented secret: the verification's one read, which caches serve. */
export type KeyLookup = Pick<KeyRecords, "findByHash">;
