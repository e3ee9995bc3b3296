import type { RatelimitPolicy } from "../keys/key-record.js";

/** What a keyspace id looks like (the protos hold requests to the same pattern). */
export const KEYSPACE_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** What a new key of a keyspace gets when CreateKey leaves a setting out. */
export interface KeyDefaults {
  readonly prefix: string;
  readonly byteLength: number;
  readonly environment: string;
  readonly ratelimits: readonly RatelimitPolicy[];
  /** Prefixes of imported keys that verify without Keyward's checksum; absent: none. */
  readonly importedPrefixes?: readonly string[] | undefined;
}

/** A named set of permissions that keys of the keyspace can carry. */
export interface Role {
  readonly name: string;
  readonly permissions: readonly string[];
}

/** Everything Keyward stores about a keyspace. */
export interface KeyspaceRecord {
  keyspaceId: string;
  orgId: string;
  name: string;
  description: string;
  keyDefaults: KeyDefaults;
  roles: Role[];
  createdAt: Date;
  updatedAt: Date;
}

/** The fields one UpdateKeyspace may set. */
export type KeyspaceChanges = Partial<
  Pick<KeyspaceRecord, "orgId" | "name" | "description" | "keyDefaults" | "roles" | "updatedAt">
>;
