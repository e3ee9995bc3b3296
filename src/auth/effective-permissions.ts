import type { VerifiableKey } from "../keys/verifiable-key.js";
import type { Role } from "../keyspaces/keyspace-record.js";

/** What a key holds for permission queries: its permissions, its scopes, and the permissions of its roles. */
export function effectivePermissions(
  record: Pick<VerifiableKey, "permissions" | "scopes" | "roles">,
  roles: readonly Role[],
): string[] {
  const fromRoles = roles.filter((role) => record.roles.includes(role.name)).flatMap((role) => role.permissions);
  return [...new Set([...record.permissions, ...record.scopes, ...fromRoles])];
}
