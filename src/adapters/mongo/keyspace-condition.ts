import type { KeyspaceFilter } from "../../ports/keyspace-filter.js";

/** The filter as a MongoDB condition on a keyspace id field, or undefined when it lets everything through. */
export function keyspaceCondition(filter: KeyspaceFilter | undefined): { $in?: string[]; $nin?: string[] } | undefined {
  if (!filter?.in && !filter?.notIn) return undefined;
  return { ...(filter.in && { $in: [...filter.in] }), ...(filter.notIn && { $nin: [...filter.notIn] }) };
}
