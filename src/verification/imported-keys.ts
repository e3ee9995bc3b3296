/**
 * Which keys without Keyward's checksum may be looked up: those imported
 * from another system (ImportKeys), in keyspaces that list their prefix in
 * `key_defaults.imported_prefixes`. Every other key that fails the checksum
 * is turned away without touching a cache or store.
 */
export interface ImportedKeyRules {
  /** Whether some keyspace lists a prefix the key starts with (followed by "_"). */
  mayReach(key: string): Promise<boolean>;
  /** Whether this keyspace lists a prefix the key starts with. */
  accepts(keyspaceId: string, key: string): Promise<boolean>;
}

/** Whether the key reads "<one of the prefixes>_…". */
export function hasPrefixAmong(key: string, prefixes: Iterable<string>): boolean {
  for (const prefix of prefixes) {
    if (key.length > prefix.length + 1 && key.startsWith(prefix) && key[prefix.length] === "_") return true;
  }
  return false;
}
