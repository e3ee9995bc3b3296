import { describe, expect, it } from "vitest";
import { sameVerifiableKey, type VerifiableKey, verifiableKey } from "../../src/keys/verifiable-key.js";
import { sampleRecord } from "../support/records.js";

describe("issue 11: what verification reads of a key", () => {
  const key = verifiableKey(
    sampleRecord({
      expiresAt: new Date(Date.UTC(2027, 0, 1)),
      meta: { plan: "pro" },
      retiredSecrets: [{ hash: "old", validUntil: new Date(Date.UTC(2026, 6, 1)) }],
      ratelimits: [{ name: "requests", limit: 10, durationMs: 1_000 }],
      remaining: 5,
      refill: { interval: "daily", amount: 5, refillDay: 0, lastRefilledAt: new Date(Date.UTC(2026, 0, 2)) },
    }),
  );

  it("holds none of the fields only management reads", () => {
    const record = sampleRecord({ description: "secret plans", usage: { valid: 3 }, lastUsedAt: new Date() });
    for (const field of ["description", "usage", "lastUsedAt", "createdBy", "updatedAt", "prefix", "start"]) {
      expect(field in verifiableKey(record), field).toBe(false);
    }
  });

  it("tells a copy that says the same from one that differs in any field", () => {
    expect(sameVerifiableKey(key, structuredClone(key))).toBe(true);
    const changes: { [Field in keyof VerifiableKey]-?: Partial<VerifiableKey> } = {
      keyId: { keyId: "key_other" },
      keyspaceId: { keyspaceId: "other" },
      hash: { hash: "other" },
      retiredSecrets: { retiredSecrets: [{ hash: "old", validUntil: new Date(Date.UTC(2026, 6, 2)) }] },
      revoked: { revoked: true },
      enabled: { enabled: false },
      expiresAt: { expiresAt: undefined },
      name: { name: "other" },
      ownerId: { ownerId: "other" },
      orgId: { orgId: "other" },
      environment: { environment: "other" },
      meta: { meta: { plan: "free" } },
      scopes: { scopes: ["x"] },
      roles: { roles: ["x"] },
      permissions: { permissions: ["x"] },
      ratelimits: { ratelimits: [{ name: "requests", limit: 11, durationMs: 1_000 }] },
      remaining: { remaining: 4 },
      refill: { refill: { interval: "daily", amount: 5, refillDay: 0, lastRefilledAt: undefined } },
      createdAt: { createdAt: new Date(0) },
    };
    expect(Object.keys(changes).sort()).toEqual(Object.keys(key).sort());
    for (const [field, change] of Object.entries(changes)) {
      expect(sameVerifiableKey(key, { ...structuredClone(key), ...change }), field).toBe(false);
    }
  });
});
