import { describe, expect, it } from "vitest";
import { MemoryKeyStore } from "../../src/adapters/memory/memory-key-store.js";
import { createRootKeyAuthenticator } from "../../src/chain/root-key-authenticator.js";
import { generateRootKey } from "../../src/composition/bootstrap.js";
import { createKeyHasher } from "../../src/keys/key-hasher.js";
import { cachedKeyStore } from "../support/cached-key-store.js";
import { countingKeyStore } from "../support/counting-key-store.js";
import { sampleRecord } from "../support/records.js";

const hasher = createKeyHasher();

function setup(now: () => number) {
  const { store, calls } = countingKeyStore(new MemoryKeyStore());
  const keys = cachedKeyStore(store, {
    settings: {
      maxBytes: 2 ** 20,
      ttlMs: 60_000,
      degradedTtlMs: 60_000,
      absentTtlMs: 60_000,
    },
  });
  const authenticate = createRootKeyAuthenticator({ store: keys, hasher, clock: now, keysVersion: () => keys.version });
  return { store, keys, calls, authenticate };
}

describe("root key authentication", () => {
  it("reuses a live root key's principal for a second, looking nothing up", async () => {
    let now = 1_000_000;
    const { store, calls, authenticate } = setup(() => now);
    const secret = generateRootKey();
    await store.insert(sampleRecord({ hash: hasher(secret), keyspaceId: "root", permissions: ["keyspace.*.*"] }));
    expect(await authenticate(secret)).toMatchObject({ permissions: ["keyspace.*.*"] });
    for (let i = 0; i < 100; i++) await authenticate(secret);
    expect(calls.findByHash).toBe(1);
    now += 1_000;
    await authenticate(secret);
    expect(calls.findByHash).toBe(1); // asked again, answered by the cache
  });

  it("refuses a revoked root key on the very next call", async () => {
    const { store, keys, authenticate } = setup(() => 1_000_000);
    const secret = generateRootKey();
    const record = sampleRecord({ hash: hasher(secret), keyspaceId: "root" });
    await store.insert(record);
    expect(await authenticate(secret)).toBeDefined();
    await keys.update(record.keyId, { revoked: true });
    expect(await authenticate(secret)).toBeUndefined();
  });

  it("keeps the rules for the root key it checks first: refused once revoked, looked up once again after a change", async () => {
    const { store, keys } = setup(() => 1_000_000);
    let lookups = 0;
    const authenticate = createRootKeyAuthenticator({
      store: {
        findByHash: (hash) => {
          lookups++;
          return keys.findByHash(hash);
        },
      },
      hasher,
      clock: () => 1_000_000,
      keysVersion: () => keys.version,
    });
    const [first, second] = [generateRootKey(), generateRootKey()];
    const records = [first, second].map((secret) => sampleRecord({ hash: hasher(secret), keyspaceId: "root" }));
    for (const record of records) await store.insert(record);
    for (let i = 0; i < 5; i++) {
      expect(await authenticate(first)).toBeDefined();
      expect(await authenticate(first)).toBeDefined();
      expect(await authenticate(second)).toBeDefined();
    }
    expect(lookups).toBe(2);
    await keys.update(records[0]?.keyId as string, { revoked: true });
    expect(await authenticate(first)).toBeUndefined();
    expect(await authenticate(second)).toBeDefined();
    expect(lookups).toBe(4);
    for (let i = 0; i < 5; i++) expect(await authenticate(second)).toBeDefined();
    expect(lookups).toBe(4);
  });

  it("refuses a root key from the instant it expires", async () => {
    let now = 1_000_000;
    const { store, authenticate } = setup(() => now);
    const secret = generateRootKey();
    await store.insert(sampleRecord({ hash: hasher(secret), keyspaceId: "root", expiresAt: new Date(now + 500) }));
    expect(await authenticate(secret)).toBeDefined();
    now += 499;
    expect(await authenticate(secret)).toBeDefined();
    now += 1;
    expect(await authenticate(secret)).toBeUndefined();
  });

  it("refuses ordinary keys, malformed keys and unknown keys", async () => {
    const { store, authenticate } = setup(() => 1_000_000);
    const ordinary = generateRootKey();
    await store.insert(sampleRecord({ hash: hasher(ordinary), keyspaceId: "default" }));
    expect(await authenticate(ordinary)).toBeUndefined();
    expect(await authenticate("kw_root_nonsense")).toBeUndefined();
    expect(await authenticate(generateRootKey())).toBeUndefined();
  });
});
