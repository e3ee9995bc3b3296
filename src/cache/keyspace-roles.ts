import { LRUCache } from "lru-cache";
import type { Role } from "../keyspaces/keyspace-record.js";
import type { KeyspaceRecords } from "../ports/keyspace-records.js";

/** A keyspace's roles, as VerifyKey needs them to expand a key's roles into permissions. */
export type KeyspaceRoles = (keyspaceId: string) => Promise<readonly Role[]>;

/** How long a replica reuses a keyspace's roles: a role change takes effect everywhere within this. */
export const ROLES_TTL_MS = 1_000;

/**
 * Roles read from the store at most once per keyspace and `ttlMs` in each
 * replica (concurrent reads of one keyspace share a lookup), so that
 * verifying keys with roles never costs a store read per call.
 */
export function createKeyspaceRoles(keyspaces: KeyspaceRecords, ttlMs = ROLES_TTL_MS): KeyspaceRoles {
  const cache = new LRUCache<string, readonly Role[]>({
    max: 10_000,
    ttl: ttlMs,
    fetchMethod: async (keyspaceId) => (await keyspaces.get(keyspaceId))?.roles ?? [],
  });
  return async (keyspaceId) => (await cache.fetch(keyspaceId)) ?? [];
}
