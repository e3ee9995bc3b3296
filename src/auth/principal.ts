import { grantCovers, grantSegments, grants } from "./permissions.js";

/** What a root key may do to keys of a keyspace. */
export type KeyAction =
  | "create_key"
  | "import_key"
  | "read_key"
  | "update_key"
  | "revoke_key"
  | "delete_key"
  | "verify_key";
/** What a root key may do to a keyspace itself. */
export type KeyspaceAction = "create" | "read" | "update" | "read_audit";
export type Action = KeyAction | KeyspaceAction;

/** An authenticated caller: the root key it presented and the permissions that key holds. */
export interface Principal {
  readonly keyId: string;
  readonly permissions: readonly string[];
}

/** The permission an action on a keyspace needs: `keyspace.<id>.<action>`. */
export function permissionFor(keyspaceId: string, action: Action): string {
  return `keyspace.${keyspaceId}.${action}`;
}

/** Whether the principal may take the action in the keyspace. */
export function may(principal: Principal, action: Action, keyspaceId: string): boolean {
  return grants(principal.permissions, permissionFor(keyspaceId, action));
}

/** Whether the principal may take the action in at least one keyspace. */
export function mayAnywhere(principal: Principal, action: Action): boolean {
  return grantSegments(principal.permissions).some((segments) => grantsKeyspaceAction(segments, action));
}

/** Whether the principal may take the action in every keyspace (but root, which wildcards never reach). */
export function mayEverywhere(principal: Principal, action: Action): boolean {
  return grantSegments(principal.permissions).some(
    (segments) => segments[1] === "*" && grantsKeyspaceAction(segments, action),
  );
}

/** Whether a grant reads `keyspace.<anything>.<action or *>`. */
function grantsKeyspaceAction(segments: readonly string[], action: Action): boolean {
  return segments.length === 3 && segments[0] === "keyspace" && (segments[2] === action || segments[2] === "*");
}

/** The keyspaces the principal may take the action in: all of them, or the ones named in its grants. */
export function keyspacesWhere(principal: Principal, action: Action): "all" | string[] {
  if (mayEverywhere(principal, action)) return "all";
  const named = principal.permissions
    .map((pattern) => pattern.split(".")[1])
    .filter((keyspace): keyspace is string => keyspace !== undefined && keyspace !== "*");
  return [...new Set(named)].filter((keyspace) => may(principal, action, keyspace)).sort();
}

/**
 * Whether the principal holds every permission it wants to hand to a root key,
 * so that nobody can mint a key stronger than their own.
 */
export function mayGrant(principal: Principal, permissions: readonly string[]): boolean {
  return permissions.every((wanted) => principal.permissions.some((held) => grantCovers(held, wanted)));
}
