import { VerifyCode } from "../../gen/keyward/v1/key_pb.js";
import { ROOT_KEYSPACE } from "../auth/permissions.js";
import type { Principal } from "../auth/principal.js";
import type { Clock } from "../keys/clock.js";
import { checkKey } from "../keys/key-checks.js";
import type { KeyHasher } from "../keys/key-hasher.js";
import { parseKey } from "../keys/key-material.js";
import type { KeyStore } from "../store/key-store.js";

/** Turns a presented root key into the caller's principal, or undefined when it is not a live root key. */
export type RootKeyAuthenticator = (secret: string) => Promise<Principal | undefined>;

/**
 * Root keys are ordinary keys in the reserved "root" keyspace; they pass the
 * same checks as any key (checksum, revoked, disabled, expired). Malformed
 * keys are refused before any lookup.
 */
export function createRootKeyAuthenticator(deps: {
  readonly store: KeyStore;
  readonly hasher: KeyHasher;
  readonly clock: Clock;
}): RootKeyAuthenticator {
  return async (secret) => {
    if (!parseKey(secret)) return undefined;
    const hash = deps.hasher(secret);
    const record = await deps.store.findByHash(hash);
    if (record?.keyspaceId !== ROOT_KEYSPACE) return undefined;
    if (checkKey(record, hash, deps.clock()) !== VerifyCode.VALID) return undefined;
    return { keyId: record.keyId, permissions: record.permissions };
  };
}
