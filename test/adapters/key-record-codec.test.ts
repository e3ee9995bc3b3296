import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeCachedKey,
  decodeRecord,
  encodeCachedKey,
  encodeRecord,
} from "../../src/adapters/redis/key-record-codec.js";
import type { JsonObject } from "../../src/keys/key-record.js";
import { type VerifiableKey, verifiableKey } from "../../src/keys/verifiable-key.js";
import { sampleRecord, typicalKey } from "../support/records.js";

/** Seeded, so a failure reproduces; FC_SEED picks another. */
const seed = Number(process.env.FC_SEED ?? 20261203);

describe("the invalidation messages' key codec (EJSON)", () => {
  it("gives back the key: dates as dates, fields left undefined still absent", () => {
    const record = verifiableKey(
      sampleRecord({
        expiresAt: undefined,
        retiredSecrets: [{ hash: "h", validUntil: new Date(Date.UTC(2026, 6, 1)) }],
        refill: { interval: "daily", amount: 5, refillDay: 0, lastRefilledAt: undefined },
      }),
    );
    const decoded = decodeRecord(encodeRecord(record));
    expect(decoded).toEqual(record);
    expect("expiresAt" in decoded).toBe(false);
    expect(decoded.retiredSecrets[0]?.validUntil).toBeInstanceOf(Date);
  });

  it("keeps meta as the caller wrote it, field names such as $date included", () => {
    const meta = { $date: "2020-01-01T00:00:00Z", nested: { $numberLong: "5" }, list: [1, "two", null] };
    expect(decodeRecord(encodeRecord(sampleRecord({ meta }))).meta).toEqual(meta);
  });
});

describe("issue 11: the shared cache's compact layout of a key", () => {
  const hash = () => randomBytes(32).toString("base64url");

  it("gives back exactly what verification reads, and when it was read", () => {
    const record = sampleRecord({
      expiresAt: new Date(Date.UTC(2027, 1, 2, 3, 4, 5, 678)),
      retiredSecrets: [
        { hash: hash(), validUntil: new Date(Date.UTC(2026, 6, 1)) },
        { hash: "a hash that is not base64url SHA-256", validUntil: new Date(-5) },
      ],
      meta: { $date: "x", "ünïcødé 🔑": [1.5, -2, null, true, { deep: "" }] },
      scopes: ["read"],
      roles: ["editor", "ünïcødé"],
      permissions: ["invoices.*", "keyspace.billing.read_key"],
      ratelimits: [
        { name: "requests", limit: 100, durationMs: 60_000 },
        { name: "burst", limit: 2 ** 40, durationMs: 1_000 },
      ],
      remaining: 0,
      refill: { interval: "monthly", amount: 1_000, refillDay: 31, lastRefilledAt: new Date(Date.UTC(2026, 0, 31)) },
      revoked: true,
      enabled: false,
    });
    const readAt = Date.UTC(2026, 11, 3, 18, 0, 0, 123);
    const decoded = decodeCachedKey(encodeCachedKey(record, readAt, record.hash), record.hash);
    expect(decoded).toEqual({ key: verifiableKey(record), readAt });
    expect(Object.keys(decoded.key).sort()).toEqual(Object.keys(verifiableKey(record)).sort());
  });

  it("finds the key under a retired secret's hash as well as under the current one", () => {
    const retired = hash();
    const record = sampleRecord({ retiredSecrets: [{ hash: retired, validUntil: new Date(Date.UTC(2026, 6, 1)) }] });
    const decoded = decodeCachedKey(encodeCachedKey(record, 1, retired), retired);
    expect(decoded.key.hash).toBe(record.hash);
    expect(decoded.key.retiredSecrets).toEqual(record.retiredSecrets);
  });

  it("gives back any key it can hold (property)", () => {
    const text = fc.string({ maxLength: 40, unit: "binary" });
    const int52 = fc.integer({ min: -(2 ** 52), max: 2 ** 52 });
    const date = int52.map((ms) => new Date(ms));
    const count = fc.maxSafeNat();
    const json = fc.jsonValue().map((value) => JSON.parse(JSON.stringify(value)) as JsonObject);
    const key = fc.record(
      {
        keyId: text,
        keyspaceId: text,
        hash: fc.oneof(
          text,
          fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString("base64url")),
        ),
        retiredSecrets: fc.array(fc.record({ hash: text, validUntil: date }), { maxLength: 3 }),
        revoked: fc.boolean(),
        enabled: fc.boolean(),
        expiresAt: fc.option(date, { nil: undefined }),
        name: text,
        ownerId: text,
        orgId: text,
        environment: text,
        meta: fc.option(fc.dictionary(fc.string(), json), { nil: undefined }),
        scopes: fc.array(text, { maxLength: 3 }),
        roles: fc.array(text, { maxLength: 3 }),
        permissions: fc.array(text, { maxLength: 3 }),
        ratelimits: fc.array(fc.record({ name: text, limit: count, durationMs: count }), { maxLength: 3 }),
        remaining: fc.option(int52, { nil: undefined }),
        refill: fc.option(
          fc.record({
            interval: fc.constantFrom("daily" as const, "monthly" as const),
            amount: count,
            refillDay: fc.integer({ min: 0, max: 31 }),
            lastRefilledAt: fc.option(date, { nil: undefined }),
          }),
          { nil: undefined },
        ),
        createdAt: date,
      },
      { noNullPrototype: true },
    );
    fc.assert(
      fc.property(key, count, fc.boolean(), (original: VerifiableKey, readAt, underRetired) => {
        const lookup = underRetired && original.retiredSecrets[0] ? original.retiredSecrets[0].hash : original.hash;
        expect(decodeCachedKey(encodeCachedKey(original, readAt, lookup), lookup)).toEqual({ key: original, readAt });
      }),
      { seed, numRuns: 300 },
    );
  });

  it("refuses bytes that do not read as a key: cut short, with bytes left over, or garbage", () => {
    const record = sampleRecord({ meta: { plan: "pro" } });
    const encoded = encodeCachedKey(record, 1_000, record.hash);
    for (const bytes of [
      encoded.subarray(0, encoded.length - 1),
      Buffer.concat([encoded, Buffer.of(0)]),
      Buffer.alloc(0),
      Buffer.alloc(40, 0xff),
    ]) {
      expect(() => decodeCachedKey(bytes, record.hash)).toThrow();
    }
  });

  it("refuses to write a number it cannot hold", () => {
    for (const record of [
      sampleRecord({ ratelimits: [{ name: "r", limit: 1.5, durationMs: 1_000 }] }),
      sampleRecord({ remaining: 2 ** 53 }),
      sampleRecord({ expiresAt: new Date(8.64e15) }),
    ]) {
      expect(() => encodeCachedKey(record, 1, record.hash)).toThrow(RangeError);
    }
  });

  it("takes about 90 bytes for a typical key", () => {
    const record = typicalKey();
    expect(encodeCachedKey(record, Date.now(), record.hash).length).toBeLessThanOrEqual(100);
  });
});
