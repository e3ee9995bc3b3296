import { LRUCache } from "lru-cache";
import type { Principal } from "../auth/principal.js";
import type { Clock } from "../keys/clock.js";
import { checkKey } from "../keys/key-checks.js";
import type { KeyHasher } from "../keys/key-hasher.js";
import { parseKey } from "../keys/key-material.js";
import { ROOT_KEYSPACE } from "../keyspaces/builtin-keyspaces.js";
import type { KeyLookup } from "../ports/key-records.js";

/**
 * Turns a presented root key into the caller's principal, or undefined when it
 * is not a live root key. Answers at once, without a promise, when it
 * remembers the key: the common case on the hot path.
 */
export type RootKeyAuthenticator = (secret: string) => Principal | undefined | Promise<Principal | undefined>;

interface Remembered {
  readonly principal: Principal;
  readonly version: number;
  readonly until: number;
}

/** How long a worked-out principal is reused at most; a root key that expires sooner is reused only until then. */
const REUSE_MS = 1_000;
const MAX_REMEMBERED = 1_000;

/**
 * Root keys are ordinary keys in the reserved "root" keyspace; they pass the
 * same checks as any key (checksum, revoked, disabled, expired). Malformed
 * keys are refused before any lookup.
 *
 * A service sends the same root key with every call, so the answer is
 * remembered for up to a second, but only while no key has changed anywhere
 * (`keysVersion`): revoking a root key takes effect on the next call, as for
 * any key. Only live root keys are remembered; refusals are always worked out.
 */
export function createRootKeyAuthenticator(deps: {
  readonly store: KeyLookup;
  readonly hasher: KeyHasher;
  readonly clock: Clock;
  readonly keysVersion: () => number;
}): RootKeyAuthenticator {
  const remembered = new LRUCache<string, Remembered>({
    max: MAX_REMEMBERED,
  });
  // Nearly every call brings the same root key as the one before: that one is checked before the LRU.
  let last: { secret: string; entry: Remembered } | undefined;
  return (secret) => {
    const now = deps.clock();
    const version = deps.keysVersion();
    if (last?.secret === secret && isFresh(last.entry, version, now)) return last.entry.principal;
    const known = remembered.get(secret);
    if (known && isFresh(known, version, now)) {
      last = { secret, entry: known };
      return known.principal;
    }
    return lookUp(secret, now);
  };

  async function lookUp(secret: string, now: number): Promise<Principal | undefined> {
    const version = deps.keysVersion();
    if (!parseKey(secret)) return undefined;
    const hash = deps.hasher(secret);
    const record = await deps.store.findByHash(hash);
    if (record?.keyspaceId !== ROOT_KEYSPACE) return undefined;
    if (checkKey(record, hash, now) !== "valid") return undefined;
    const principal = { keyId: record.keyId, permissions: record.permissions };
    const until = Math.min(now + REUSE_MS, record.expiresAt?.getTime() ?? Number.POSITIVE_INFINITY);
    remembered.set(secret, { principal, version, until });
    return principal;
  }
}

function isFresh(entry: Remembered, version: number, now: number): boolean {
  return entry.version === version && now < entry.until;
}
