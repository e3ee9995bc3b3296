import { may, type Principal } from "../auth/principal.js";
import { ROOT_KEYSPACE } from "../keyspaces/builtin-keyspaces.js";

/** Whether the caller may verify keys of a keyspace; a key it may not is answered as missing. */
export type VerifierScope = (keyspaceId: string) => boolean;

/** Who may verify what, by configuration. */
export interface VerifierSettings {
  /** KEYWARD_VERIFY_KEYSPACES: what a caller without a root key may verify (KEYWARD_VERIFY_AUTH=none). */
  readonly unauthenticatedKeyspaces: readonly string[];
  /** KEYWARD_VERIFY_ROOT_KEYS: whether root keys verify through VerifyKey and Check at all. */
  readonly rootKeys: boolean;
}

/**
 * The scope of a caller: with a root key, the keyspaces it holds verify_key
 * in; without one, the configured keyspaces. Root keys are never verified
 * unless the deployment opted in, whatever the caller holds: a root key is a
 * credential for Keyward, not for the applications behind Envoy.
 */
export function createVerifierScopes(settings: VerifierSettings): (principal: Principal | undefined) => VerifierScope {
  const unauthenticated = new Set(settings.unauthenticatedKeyspaces);
  const reachable = (keyspaceId: string) => settings.rootKeys || keyspaceId !== ROOT_KEYSPACE;
  const anonymous: VerifierScope = (keyspaceId) => reachable(keyspaceId) && unauthenticated.has(keyspaceId);
  // A principal is reused for as long as its root key is remembered: so is its scope.
  const scopes = new WeakMap<Principal, VerifierScope>();
  return (principal) => {
    if (!principal) return anonymous;
    let scope = scopes.get(principal);
    if (!scope) {
      scope = (keyspaceId) => reachable(keyspaceId) && may(principal, "verify_key", keyspaceId);
      scopes.set(principal, scope);
    }
    return scope;
  };
}
