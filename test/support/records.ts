import { randomBytes } from "node:crypto";
import type { KeyRecord } from "../../src/keys/key-record.js";
import { type VerifiableKey, verifiableKey } from "../../src/keys/verifiable-key.js";
import type { KeyspaceRecord } from "../../src/keyspaces/keyspace-record.js";

let sequence = 0;

/** A complete key record with unique id and hash; override any field. */
export function sampleRecord(overrides: Partial<KeyRecord> = {}): KeyRecord {
  sequence += 1;
  const created = new Date(Date.UTC(2026, 0, 1, 0, 0, sequence % 60));
  return {
    // Ids sort in creation order, like the real ones.
    keyId: `key_01TEST${String(sequence).padStart(20, "0")}`,
    keyspaceId: "default",
    hash: randomBytes(32).toString("base64url"),
    retiredSecrets: [],
    name: `key ${sequence}`,
    description: "",
    ownerId: "user_1",
    orgId: "org_1",
    environment: "test",
    prefix: "kw",
    byteLength: 16,
    start: "kw_abcd",
    enabled: true,
    scopes: [],
    roles: [],
    permissions: [],
    ratelimits: [],
    createdBy: "tests",
    createdAt: created,
    updatedAt: created,
    revoked: false,
    revocationReason: "",
    ...overrides,
  };
}

/** A key as the README's first example makes it (a name and an owner, nothing else), as verification reads it. */
export function typicalKey(): VerifiableKey {
  return verifiableKey(
    sampleRecord({
      keyId: "key_01KBMZ8W6B5N8X0V9YJ3QHT2RD",
      name: "billing service",
      ownerId: "user_42",
      orgId: "",
      environment: "",
      createdAt: new Date(),
    }),
  );
}

let keyspaceSequence = 0;

/** A complete keyspace record with a unique id; override any field. */
export function sampleKeyspace(overrides: Partial<KeyspaceRecord> = {}): KeyspaceRecord {
  keyspaceSequence += 1;
  const at = new Date(Date.UTC(2026, 0, 1, 0, 0, keyspaceSequence));
  return {
    keyspaceId: `ks-${String(keyspaceSequence).padStart(4, "0")}`,
    orgId: "org_1",
    name: `keyspace ${keyspaceSequence}`,
    description: "",
    keyDefaults: { prefix: "kw", byteLength: 16, environment: "", ratelimits: [] },
    roles: [],
    createdAt: at,
    updatedAt: at,
    ...overrides,
  };
}
