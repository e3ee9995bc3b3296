import { effectivePermissions } from "../auth/effective-permissions.js";
import type { PermissionQuery } from "../auth/permission-query.js";
import { satisfies } from "../auth/permission-query.js";
import { grants } from "../auth/permissions.js";
import type { Clock } from "../keys/clock.js";
import { checkKey, type KeyState } from "../keys/key-checks.js";
import type { ImportedKeyHasher, KeyHasher } from "../keys/key-hasher.js";
import { parseKey } from "../keys/key-material.js";
import type { UsageOutcome } from "../keys/key-record.js";
import { nextRefillAt } from "../keys/refill.js";
import type { VerifiableKey } from "../keys/verifiable-key.js";
import type { Role } from "../keyspaces/keyspace-record.js";
import type { KeyLookup } from "../ports/key-records.js";
import type { RateLimiter } from "../ports/rate-limiter.js";
import { type LimitResult, limitsFor } from "../ratelimit/limits.js";
import type { CreditSpender } from "./credits.js";
import type { ImportedKeyRules } from "./imported-keys.js";
import type { VerificationRequest } from "./verification-request.js";
import type { VerifierScope } from "./verifier-scope.js";

/** How a verification ended: the key's own state, or a later check that refused it. */
export type VerificationStatus = KeyState | "notFound" | "insufficientPermissions" | "rateLimited" | "usageExceeded";

/** A verification's outcome, in the domain's terms; every front end maps it to its own. */
export interface Verification {
  readonly status: VerificationStatus;
  /** The key; absent when the status is notFound. */
  readonly record?: VerifiableKey | undefined;
  /** Every rate limit the verification counted against. */
  readonly ratelimits: readonly LimitResult[];
  /** Credits left, when this verification looked at them (it spent them, or found too few). */
  readonly credits?: { readonly remaining: number; readonly refillAt?: number | undefined } | undefined;
}

export interface VerificationDeps {
  readonly keys: KeyLookup;
  /** Spends the credits of keys with a credit limit (the replica's credit leases). */
  readonly credits: CreditSpender;
  /** A keyspace's roles, to expand a key's roles into permissions (cached by the caller). */
  readonly keyspaceRoles: (keyspaceId: string) => Promise<readonly Role[]>;
  readonly hasher: KeyHasher;
  /** Keys imported without Keyward's checksum: which may be looked up, and how they are hashed. Absent: none. */
  readonly imported?: { readonly rules: ImportedKeyRules; readonly hasher: ImportedKeyHasher } | undefined;
  readonly clock: Clock;
  readonly limiter: RateLimiter;
  /** Counts the outcome against the key (written back in batches). */
  readonly recordUsage: (keyId: string, outcome: UsageOutcome, now: number) => void;
  /** Hears every outcome, and every rate-limit decision (metrics). */
  readonly observe: (status: VerificationStatus) => void;
  readonly observeRatelimit: (limited: boolean) => void;
}

/** Verifies a request whose input passed its rules, for a caller who may verify keys of `scope`'s keyspaces. */
export type Verify = (request: VerificationRequest, scope: VerifierScope) => Promise<Verification>;

const NOT_FOUND: Verification = Object.freeze({ status: "notFound", ratelimits: Object.freeze([]) });

/**
 * The verification pipeline, whichever front end asked. A malformed secret
 * never reaches a store, and a key of a keyspace the caller may not verify in
 * is as good as missing. Then, in order: revoked → disabled → expired →
 * permissions → rate limits → credits. Only keys with rate limits touch the
 * limiter, and only keys with credits spend them (through the replica's leases).
 */
export function createVerification(deps: VerificationDeps): Verify {
  return async (request, scope) => {
    const { imported } = deps;
    const checked = parseKey(request.key) !== undefined;
    let hash: string;
    if (checked) hash = deps.hasher(request.key);
    // A key failing the checksum is looked up only when some keyspace imports keys of its prefix.
    else if (imported && (await imported.rules.mayReach(request.key))) hash = imported.hasher.ofKey(request.key);
    else return notFound();
    const record = await deps.keys.findByHash(hash);
    if (!record || !scope(record.keyspaceId)) return notFound();
    if (!checked && !(await imported?.rules.accepts(record.keyspaceId, request.key))) return notFound();
    const now = deps.clock();
    let status: VerificationStatus = checkKey(record, hash, now);
    if (status === "valid" && request.query && !(await holds(record, request.query))) {
      status = "insufficientPermissions";
    }
    let ratelimits: readonly LimitResult[] = [];
    const limits = limitsFor(record.ratelimits, request.overrides, request.cost);
    if (status === "valid" && limits.length > 0) {
      ratelimits = await deps.limiter.consume(record.keyId, limits, now);
      if (ratelimits.some((result) => result.exceeded)) status = "rateLimited";
      deps.observeRatelimit(status === "rateLimited");
    }
    let credits: Verification["credits"];
    if (status === "valid" && record.remaining !== undefined) {
      const spend = await deps.credits.spend(record, request.cost, now);
      if (!spend.spent) status = "usageExceeded";
      credits = { remaining: spend.remaining, refillAt: record.refill && nextRefillAt(record.refill, now) };
    }
    deps.recordUsage(record.keyId, status, now);
    deps.observe(status);
    return { status, record, ratelimits, credits };
  };

  function notFound(): Verification {
    deps.observe("notFound");
    return NOT_FOUND;
  }

  async function holds(record: VerifiableKey, query: PermissionQuery): Promise<boolean> {
    // Roles live on the keyspace; fetch them only when the key has any.
    const roles = record.roles.length > 0 ? await deps.keyspaceRoles(record.keyspaceId) : [];
    const held = effectivePermissions(record, roles);
    return satisfies(query, (permission) => grants(held, permission));
  }
}
