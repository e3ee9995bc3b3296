import { LRUCache } from "lru-cache";
import type { KeyspaceRecords } from "../ports/keyspace-records.js";
import { hasPrefixAmong, type ImportedKeyRules } from "../verification/imported-keys.js";

/** How long a replica reuses what it read of the keyspaces' imported prefixes: a change takes effect within this. */
export const IMPORTED_PREFIXES_TTL_MS = 5_000;
const PAGE = 1_000;
const EVERY_KEYSPACE = "";

/**
 * The keyspaces' imported prefixes, read from the store at most once per
 * `ttlMs` (all keyspaces for `mayReach`, one for `accepts`) and shared by
 * concurrent verifications, so that a flood of made-up keys costs at most
 * one listing per interval, and none while no keyspace lists a prefix that
 * the made-up keys start with.
 */
export function createImportedKeyRules(keyspaces: KeyspaceRecords, ttlMs = IMPORTED_PREFIXES_TTL_MS): ImportedKeyRules {
  const cache = new LRUCache<string, readonly string[]>({
    max: 10_000,
    ttl: ttlMs,
    // While the store cannot be read, the prefixes last read stand.
    allowStaleOnFetchRejection: true,
    noDeleteOnFetchRejection: true,
    fetchMethod: async (keyspaceId) => {
      if (keyspaceId !== EVERY_KEYSPACE) return (await keyspaces.get(keyspaceId))?.keyDefaults.importedPrefixes ?? [];
      const prefixes = new Set<string>();
      for (let after: string | undefined; ; ) {
        const page = await keyspaces.list({ keyspaces: {}, afterKeyspaceId: after, limit: PAGE });
        for (const keyspace of page)
          for (const prefix of keyspace.keyDefaults.importedPrefixes ?? []) prefixes.add(prefix);
        if (page.length < PAGE) return [...prefixes];
        after = page.at(-1)?.keyspaceId;
      }
    },
  });
  return {
    mayReach: async (key) => hasPrefixAmong(key, (await cache.fetch(EVERY_KEYSPACE)) ?? []),
    accepts: async (keyspaceId, key) => hasPrefixAmong(key, (await cache.fetch(keyspaceId)) ?? []),
  };
}
