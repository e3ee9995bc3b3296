import type { KeyDefaults, KeyspaceRecord } from "./keyspace-record.js";

/** The reserved keyspace of root keys, the keys that manage Keyward. */
export const ROOT_KEYSPACE = "root";

/** Where keys go when CreateKey names no keyspace. */
export const DEFAULT_KEYSPACE = "default";

/** The defaults Keyward falls back on where a keyspace sets none. */
export const BASE_KEY_DEFAULTS: KeyDefaults = { prefix: "kw", byteLength: 16, environment: "", ratelimits: [] };

/** The keyspaces that always exist: "default" for keys, "root" for the root keys that manage Keyward. */
export function builtinKeyspaces(now: Date): KeyspaceRecord[] {
  const keyspace = (keyspaceId: string, name: string, prefix: string): KeyspaceRecord => ({
    keyspaceId,
    orgId: "",
    name,
    description: "",
    keyDefaults: { ...BASE_KEY_DEFAULTS, prefix, byteLength: keyspaceId === ROOT_KEYSPACE ? 32 : 16 },
    roles: [],
    createdAt: now,
    updatedAt: now,
  });
  return [keyspace(DEFAULT_KEYSPACE, "Default", "kw"), keyspace(ROOT_KEYSPACE, "Root keys", "kw_root")];
}

/** The defaults a keyspace gives a new key, with Keyward's own where it sets none. */
export function effectiveKeyDefaults(keyspace: KeyspaceRecord): KeyDefaults {
  const own = keyspace.keyDefaults;
  return {
    prefix: own.prefix || BASE_KEY_DEFAULTS.prefix,
    byteLength: own.byteLength || BASE_KEY_DEFAULTS.byteLength,
    environment: own.environment,
    ratelimits: own.ratelimits,
  };
}
