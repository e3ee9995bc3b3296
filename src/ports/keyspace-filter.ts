/**
 * Which keyspaces a query may return records of: only those `in` the list,
 * none of those `notIn` it, or (both absent) all of them.
 */
export interface KeyspaceFilter {
  readonly in?: readonly string[];
  readonly notIn?: readonly string[];
}

/** Whether a keyspace passes the filter; for adapters that filter in memory. */
export function keyspacePasses(filter: KeyspaceFilter | undefined, keyspaceId: string): boolean {
  if (!filter) return true;
  return (!filter.in || filter.in.includes(keyspaceId)) && !filter.notIn?.includes(keyspaceId);
}
