import { ROOT_KEYSPACE } from "./auth/permissions.js";
import type { Clock } from "./keys/clock.js";
import type { KeyHasher } from "./keys/key-hasher.js";
import { generateKey, keyStart, parseKey, type RandomBytes } from "./keys/key-material.js";
import type { KeyRecord } from "./keys/key-record.js";
import { builtinKeyspaces } from "./keyspaces/builtin-keyspaces.js";
import type { KeyStore } from "./store/key-store.js";
import type { KeyspaceStore } from "./store/keyspace-store.js";
import { DuplicateRecordError } from "./store/store-errors.js";

/** The fixed id of the root key that KEYWARD_ROOT_KEY stands for. */
export const BOOTSTRAP_KEY_ID = "key_00000000000000000000000000";

/** Everything: every keyspace, and (named, since wildcards never reach it) the root keyspace. */
export const BOOTSTRAP_PERMISSIONS = ["keyspace.*.*", `keyspace.${ROOT_KEYSPACE}.*`];

/** Root keys are longer than ordinary ones. */
const ROOT_KEY_BYTES = 32;

export interface BootstrapDeps {
  readonly keys: KeyStore;
  readonly keyspaces: KeyspaceStore;
  readonly hasher: KeyHasher;
  readonly clock: Clock;
  readonly random?: RandomBytes;
}

/** Makes a new root key secret (for KEYWARD_ROOT_KEY, or dev mode). */
export function generateRootKey(random?: RandomBytes): string {
  return generateKey("kw_root", ROOT_KEY_BYTES, random);
}

/**
 * Brings the stores to what the configuration says, idempotently and safely
 * for several replicas starting at once: the built-in keyspaces exist, and the
 * bootstrap root key matches KEYWARD_ROOT_KEY. Without it, dev mode makes one
 * (returned so that it can be shown once); elsewhere an earlier bootstrap key
 * is revoked, so that unsetting the variable disables it.
 */
export async function bootstrap(
  deps: BootstrapDeps,
  settings: { readonly rootKey?: string; readonly devMode: boolean },
): Promise<{ generatedRootKey?: string }> {
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
  } else if (existing && !existing.revoked) {
    await deps.keys.update(BOOTSTRAP_KEY_ID, {
      revoked: true,
      revokedAt: now,
      revocationReason: "KEYWARD_ROOT_KEY is no longer set",
      updatedAt: now,
    });
  }
  return { generatedRootKey };
}

async function ensureBootstrapKey(deps: BootstrapDeps, secret: string, existing: KeyRecord | undefined, now: Date) {
  const parsed = parseKey(secret);
  if (!parsed) throw new Error("KEYWARD_ROOT_KEY is not a Keyward key");
  const wanted = {
    hash: deps.hasher(secret),
    start: keyStart(parsed),
    prefix: parsed.prefix,
    retiredSecrets: [],
    permissions: BOOTSTRAP_PERMISSIONS,
    enabled: true,
    expiresAt: undefined,
    revoked: false,
    revokedAt: undefined,
    revocationReason: "",
    updatedAt: now,
  };
  if (existing) {
    await deps.keys.update(BOOTSTRAP_KEY_ID, wanted);
    return;
  }
  const record: KeyRecord = {
    ...wanted,
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
    createdBy: "keyward",
    createdAt: now,
  };
  // Another replica may have inserted it first; then the update makes it match.
  await deps.keys.insert(record).catch(async (error: unknown) => {
    ignoreDuplicate(error);
    await deps.keys.update(BOOTSTRAP_KEY_ID, wanted);
  });
}

function ignoreDuplicate(error: unknown): void {
  if (!(error instanceof DuplicateRecordError)) throw error;
}
