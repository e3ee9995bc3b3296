import type { AuditEventRecord } from "../audit/audit-event.js";
import type { Clock } from "../keys/clock.js";
import type { KeyHasher } from "../keys/key-hasher.js";
import { generateKey, keyStart, parseKey, type RandomBytes } from "../keys/key-material.js";
import type { KeyChanges, KeyRecord } from "../keys/key-record.js";
import { builtinKeyspaces, ROOT_KEYSPACE } from "../keyspaces/builtin-keyspaces.js";
import type { AuditEvents } from "../ports/audit-events.js";
import type { KeyRecords } from "../ports/key-records.js";
import type { KeyspaceRecords } from "../ports/keyspace-records.js";
import { DuplicateRecordError } from "../ports/store-errors.js";

/** The fixed id of the root key that KEYWARD_ROOT_KEY stands for. */
export const BOOTSTRAP_KEY_ID = "key_00000000000000000000000000";

/** Everything: every keyspace, and (named, since wildcards never reach it) the root keyspace. */
export const BOOTSTRAP_PERMISSIONS = ["keyspace.*.*", `keyspace.${ROOT_KEYSPACE}.*`];

/** Root keys are longer than ordinary ones. */
const ROOT_KEY_BYTES = 32;

/** Who the audit log names for changes the environment made. */
const ACTOR = "keyward";

export interface BootstrapDeps {
  readonly keys: KeyRecords;
  readonly keyspaces: KeyspaceRecords;
  readonly audit: AuditEvents;
  readonly newEventId: (time: number) => string;
  readonly hasher: KeyHasher;
  readonly clock: Clock;
  readonly random?: RandomBytes | undefined;
}

export interface BootstrapSettings {
  readonly rootKey?: string | undefined;
  /** KEYWARD_REVOKE_ROOT_KEY: revoke the bootstrap root key (only without KEYWARD_ROOT_KEY). */
  readonly revokeRootKey: boolean;
  readonly devMode: boolean;
}

/** KEYWARD_ROOT_KEY names a secret that was rotated away or revoked: starting would bring it back. */
class RetiredRootKeyError extends Error {
  override readonly name = "RetiredRootKeyError";
  constructor() {
    super(
      "KEYWARD_ROOT_KEY is a bootstrap root key that was rotated away or revoked; an old secret never comes back: set the current one, or a new one made by `npm run root-key`",
    );
  }
}

/** Makes a new root key secret (for KEYWARD_ROOT_KEY, or dev mode). */
export function generateRootKey(random?: RandomBytes): string {
  return generateKey("kw_root", ROOT_KEY_BYTES, random);
}

/**
 * Brings the stores to what the configuration says, idempotently and safely
 * for several replicas starting at once: the built-in keyspaces exist, and the
 * bootstrap root key matches KEYWARD_ROOT_KEY. Without it, dev mode makes one
 * (returned so that it can be shown once); elsewhere nothing changes, unless
 * KEYWARD_REVOKE_ROOT_KEY asks for the key to be revoked.
 *
 * Changes go one way: a replaced or revoked secret is kept among the key's
 * retired secrets for good, and a replica started with one of them refuses
 * to start rather than bring it back. Every change, and every refusal, is in
 * the audit log; changes go through the cache, so every replica hears of them at once.
 */
export async function bootstrap(
  deps: BootstrapDeps,
  settings: BootstrapSettings,
): Promise<{ generatedRootKey?: string | undefined }> {
  const now = new Date(deps.clock());
  for (const keyspace of builtinKeyspaces(now)) {
    if (await deps.keyspaces.get(keyspace.keyspaceId)) continue;
    await deps.keyspaces.insert(keyspace).catch(ignoreDuplicate);
  }
  const generatedRootKey = !settings.rootKey && settings.devMode ? generateRootKey(deps.random) : undefined;
  const secret = settings.rootKey ?? generatedRootKey;
  const existing = await deps.keys.get(BOOTSTRAP_KEY_ID);
  if (secret) {
    await ensureBootstrapKey(deps, secret, existing, now);
  } else if (settings.revokeRootKey && existing && !existing.revoked) {
    await deps.keys.update(BOOTSTRAP_KEY_ID, {
      ...retire(existing, now),
      revoked: true,
      revokedAt: now,
      revocationReason: "revoked by KEYWARD_REVOKE_ROOT_KEY",
    });
    await record(deps, "BootstrapRevokeRootKey", "OK", now);
  }
  return { generatedRootKey };
}

async function ensureBootstrapKey(deps: BootstrapDeps, secret: string, existing: KeyRecord | undefined, now: Date) {
  const parsed = parseKey(secret);
  if (!parsed) throw new Error("KEYWARD_ROOT_KEY is not a Keyward key");
  const hash = deps.hasher(secret);
  const retired =
    existing?.retiredSecrets.some((old) => old.hash === hash) || (existing?.hash === hash && existing.revoked);
  if (retired) {
    await record(deps, "BootstrapRotateRootKey", "FAILED_PRECONDITION", now);
    throw new RetiredRootKeyError();
  }
  if (existing?.hash === hash) return; // already as configured
  const wanted = {
    hash,
    start: keyStart(parsed),
    prefix: parsed.prefix,
    permissions: BOOTSTRAP_PERMISSIONS,
    enabled: true,
    expiresAt: undefined,
    revoked: false,
    revokedAt: undefined,
    revocationReason: "",
    updatedAt: now,
  };
  if (existing) {
    await deps.keys.update(BOOTSTRAP_KEY_ID, { ...wanted, ...retire(existing, now) });
    await record(deps, "BootstrapRotateRootKey", "OK", now);
    return;
  }
  const created: KeyRecord = {
    ...wanted,
    retiredSecrets: [],
    keyId: BOOTSTRAP_KEY_ID,
    keyspaceId: ROOT_KEYSPACE,
    byteLength: ROOT_KEY_BYTES,
    name: "Bootstrap root key (KEYWARD_ROOT_KEY)",
    description: "",
    ownerId: "",
    orgId: "",
    environment: "",
    scopes: [],
    roles: [],
    ratelimits: [],
    createdBy: ACTOR,
    createdAt: now,
  };
  try {
    await deps.keys.insert(created);
    await record(deps, "BootstrapCreateRootKey", "OK", now);
  } catch (error) {
    // Another replica inserted it first: start over from what it stored.
    ignoreDuplicate(error);
    await ensureBootstrapKey(deps, secret, await deps.keys.get(BOOTSTRAP_KEY_ID), now);
  }
}

/**
 * The current secret, retired at once and for good: it answers REVOKED from
 * now on, and a replica started with it refuses to start. (Ordinary keys
 * forget retired secrets after a while; the bootstrap key's are few.)
 */
function retire(existing: KeyRecord, now: Date): Pick<KeyChanges, "retiredSecrets"> {
  const known = existing.retiredSecrets.some((retired) => retired.hash === existing.hash);
  const retiredSecrets = known
    ? existing.retiredSecrets
    : [...existing.retiredSecrets, { hash: existing.hash, validUntil: now }];
  return { retiredSecrets };
}

async function record(deps: BootstrapDeps, action: string, outcome: string, now: Date): Promise<void> {
  const event: AuditEventRecord = {
    eventId: deps.newEventId(now.getTime()),
    time: now,
    actorKeyId: ACTOR,
    action,
    keyspaceId: ROOT_KEYSPACE,
    keyId: BOOTSTRAP_KEY_ID,
    outcome,
    peer: "",
    requestId: "",
    count: 1,
  };
  await deps.audit.append(event);
}

function ignoreDuplicate(error: unknown): void {
  if (!(error instanceof DuplicateRecordError)) throw error;
}
