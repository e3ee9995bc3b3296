import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { VerifyCode } from "../../gen/keyward/v1/key_pb.js";
import { KeyService, VerifyKeyRequestSchema } from "../../gen/keyward/v1/key_service_pb.js";
import { MemoryKeyStore } from "../../src/adapters/memory/memory-key-store.js";
import { MemoryKeyspaceRecords } from "../../src/adapters/memory/memory-keyspace-records.js";
import { MemoryRateLimiter } from "../../src/adapters/memory/memory-rate-limiter.js";
import { createKeyspaceRoles } from "../../src/cache/keyspace-roles.js";
import type { Call } from "../../src/chain/call.js";
import { createKeyHasher } from "../../src/keys/key-hasher.js";
import { generateKey } from "../../src/keys/key-material.js";
import { createLogger } from "../../src/observability/logger.js";
import { Metrics } from "../../src/observability/metrics.js";
import { createFailureCounter } from "../../src/ratelimit/failure-counter.js";
import { createVerifyKey } from "../../src/services/verify-key.js";
import { UsageRecorder } from "../../src/usage/usage-recorder.js";
import { directCredits } from "../../src/verification/credits.js";
import { createVerification } from "../../src/verification/verification.js";
import { createVerifierScopes } from "../../src/verification/verifier-scope.js";
import { cachedKeyStore } from "../support/cached-key-store.js";
import { countingKeyStore } from "../support/counting-key-store.js";
import { sampleKeyspace, sampleRecord } from "../support/records.js";

const hasher = createKeyHasher();
const call: Call = { method: KeyService.method.verifyKey, peer: "test", requestId: "test", header: () => undefined };

/** The real VerifyKey over a memory store that counts its calls, behind the verification cache. */
function pipeline() {
  const { store, calls } = countingKeyStore(new MemoryKeyStore());
  const keys = cachedKeyStore(store, {
    settings: {
      maxBytes: 16 * 2 ** 20,
      ttlMs: 60_000,
      degradedTtlMs: 60_000,
      absentTtlMs: 60_000,
    },
  });
  const keyspaces = new MemoryKeyspaceRecords();
  let keyspaceReads = 0;
  const countedKeyspaces = new Proxy(keyspaces, {
    get: (target, property, receiver) =>
      property === "get"
        ? (keyspaceId: string) => {
            keyspaceReads += 1;
            return target.get(keyspaceId);
          }
        : Reflect.get(target, property, receiver),
  });
  const usage = new UsageRecorder(keys, createLogger("silent"), 60_000);
  const metrics = new Metrics();
  const verification = createVerification({
    keys,
    credits: directCredits(keys),
    keyspaceRoles: createKeyspaceRoles(countedKeyspaces, 200),
    hasher,
    clock: Date.now,
    limiter: new MemoryRateLimiter(),
    recordUsage: (keyId, outcome, now) => usage.record(keyId, outcome, now),
    observe: (status) => metrics.verification(status),
    observeRatelimit: () => {},
  });
  const verify = createVerifyKey({
    verify: verification,
    // As under KEYWARD_VERIFY_AUTH=none: the call below carries no root key.
    scopeOf: createVerifierScopes({ unauthenticatedKeyspaces: ["default", "docs"], rootKeys: false }),
    failures: createFailureCounter(1_000_000, Date.now),
  });
  return {
    store,
    calls,
    keyspaces,
    keyspaceReads: () => keyspaceReads,
    verify: (key: string, permissionQuery = "") =>
      verify(create(VerifyKeyRequestSchema, { key, permissionQuery }), call),
  };
}

describe("a flood of bad keys", () => {
  it("of malformed or mistyped keys never reaches the store", async () => {
    const { calls, verify } = pipeline();
    const real = generateKey("kw", 16);
    const typos = [..."123456789ABCDEFGH"].filter((letter) => letter !== real.at(-1));
    for (let i = 0; i < 1_000; i++) {
      const typo = `${real.slice(0, -1)}${typos[i % typos.length]}`;
      const garbage = i % 2 ? `kw_${Math.random().toString(36).slice(2)}` : typo;
      expect(await verify(garbage)).toMatchObject({ valid: false, code: VerifyCode.NOT_FOUND });
    }
    expect(calls.findByHash ?? 0).toBe(0);
  });

  it("of the same well-formed unknown keys reaches the store once per key", async () => {
    const { calls, verify } = pipeline();
    const unknown = Array.from({ length: 20 }, () => generateKey("kw", 16));
    for (let round = 0; round < 50; round++) {
      for (const key of unknown) expect(await verify(key)).toMatchObject({ code: VerifyCode.NOT_FOUND });
    }
    expect(calls.findByHash).toBe(20);
  });

  it("while a real key keeps verifying from memory", async () => {
    const { store, calls, verify } = pipeline();
    const key = generateKey("kw", 16);
    await store.insert(sampleRecord({ hash: hasher(key) }));
    for (let i = 0; i < 100; i++) expect(await verify(key)).toMatchObject({ valid: true });
    expect(calls.findByHash).toBe(1);
    expect(calls.spendCredits ?? 0).toBe(0);
  });
});

describe("keys with roles", () => {
  it("expand them with the keyspace's roles, read from the store at most once per keyspace and TTL", async () => {
    const { store, keyspaces, keyspaceReads, verify } = pipeline();
    const keyspace = sampleKeyspace({
      keyspaceId: "docs",
      roles: [{ name: "writer", permissions: ["documents.write"] }],
    });
    await keyspaces.insert(keyspace);
    const key = generateKey("kw", 16);
    await store.insert(sampleRecord({ hash: hasher(key), keyspaceId: "docs", roles: ["writer"] }));
    const all = await Promise.all(Array.from({ length: 50 }, () => verify(key, "documents.write")));
    expect(all.every((answer) => answer.code === VerifyCode.VALID)).toBe(true);
    expect(keyspaceReads()).toBe(1);
    // A role change is seen once the TTL (200 ms here) is over.
    await keyspaces.update("docs", { roles: [{ name: "writer", permissions: ["documents.read"] }] });
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await verify(key, "documents.write")).toMatchObject({ code: VerifyCode.INSUFFICIENT_PERMISSIONS });
    expect(keyspaceReads()).toBe(2);
  });
});
