import { RESP_TYPES } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedisClient } from "../../src/adapters/redis/redis-connection.js";
import { RedisKeyCache } from "../../src/adapters/redis/redis-key-cache.js";
import type { RejectedKind } from "../../src/adapters/redis/rejected-values.js";
import { createValueSigner } from "../../src/adapters/redis/value-signer.js";
import { verifiableKey } from "../../src/keys/verifiable-key.js";
import { createLogger } from "../../src/observability/logger.js";
import { sampleRecord } from "../support/records.js";
import { connectRedis, sharedRedisUrl } from "../support/redis.js";

const OLD = "the secret before the rotation, 32+ characters";
const NEW = "the secret after the rotation, also 32+ chars";
const ttls = { recordMs: 60_000, absentMs: 60_000, tombstoneMs: 60_000 };

describe("issue 9 item 1: signed values", () => {
  const signer = createValueSigner({ current: NEW });

  it("open what they signed, for the name they signed it for only", () => {
    const stored = signer.sign("kw:key:a", "payload|with.dots");
    expect(signer.open("kw:key:a", stored)).toBe("payload|with.dots");
    expect(signer.open("kw:key:b", stored)).toBeUndefined();
  });

  it("refuse tampered, truncated, unsigned and foreign values", () => {
    const stored = signer.sign("name", "payload");
    const foreign = createValueSigner({ current: OLD }).sign("name", "payload");
    for (const value of [
      `${stored}x`,
      stored.replace("payload", "paylaod"),
      stored.slice(0, 25),
      "payload",
      "",
      foreign,
      `kw2${stored.slice(3)}`,
    ]) {
      expect(signer.open("name", value), value).toBeUndefined();
    }
  });

  it("open binary payloads they signed, for the name they signed them for only, and nothing else", () => {
    const payload = Buffer.from([1, 0, 255, 46, 10]);
    const stored = signer.signBytes("kw:key:a", payload);
    expect(Buffer.from(signer.openBytes("kw:key:a", stored) ?? [])).toEqual(payload);
    expect(signer.openBytes("kw:key:b", stored)).toBeUndefined();
    const foreign = createValueSigner({ current: OLD }).signBytes("kw:key:a", payload);
    const flipped = Buffer.from(stored);
    flipped[flipped.length - 1] = (flipped.at(-1) ?? 0) ^ 1;
    const text = Buffer.from(signer.sign("kw:key:a", payload.toString("latin1")));
    for (const value of [foreign, flipped, stored.subarray(0, 18), Buffer.concat([stored, Buffer.of(0)]), text]) {
      expect(signer.openBytes("kw:key:a", value)).toBeUndefined();
    }
    // Nor does a binary value pass for text, whatever its bytes.
    expect(signer.open("kw:key:a", stored.toString("latin1"))).toBeUndefined();
  });

  it("accept the previous secret during a rotation, and sign with the current one", () => {
    const rotating = createValueSigner({ current: NEW, previous: OLD });
    const byOld = createValueSigner({ current: OLD }).sign("name", "payload");
    expect(rotating.open("name", byOld)).toBe("payload");
    expect(createValueSigner({ current: NEW }).open("name", rotating.sign("name", "payload"))).toBe("payload");
  });
});

describe("issue 9 item 1: the shared cache in Redis", () => {
  let redis: RedisClient;
  const rejected: RejectedKind[] = [];
  let cache: RedisKeyCache;
  beforeAll(async () => {
    redis = await connectRedis(sharedRedisUrl, createLogger("silent"));
    cache = new RedisKeyCache(redis, ttls, createValueSigner({ current: NEW }), (kind) => void rejected.push(kind));
  });
  afterAll(() => redis.close());

  it("answers what it filled: what verification reads of the key", async () => {
    const record = sampleRecord({ meta: { plan: "pro" }, remaining: 5 });
    await cache.fill(record.hash, record, 1_000);
    const lookup = await cache.get(record.hash);
    expect(lookup).toEqual({ kind: "hit", record: verifiableKey(record), readAt: 1_000 });
    // Fields only management reads were never stored.
    expect(lookup.kind === "hit" && "description" in lookup.record).toBe(false);
  });

  it("treats a value moved to another key's name as a miss, and reports it", async () => {
    const [a, b] = [sampleRecord(), sampleRecord()];
    await cache.fill(a.hash, a, 1_000);
    const bytes = redis.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
    const moved = await bytes.get(`kw:key:{${a.hash}}`);
    await redis.set(`kw:key:{${b.hash}}`, moved as Buffer);
    rejected.length = 0;
    expect(await cache.get(b.hash)).toEqual({ kind: "unknown" });
    expect(rejected).toEqual(["cache"]);
  });

  it("treats a value signed under another secret, or a signed value that is not a lookup, as a miss", async () => {
    const record = sampleRecord();
    const name = `kw:key:{${record.hash}}`;
    const other = new RedisKeyCache(redis, ttls, createValueSigner({ current: OLD }), () => {});
    await other.fill(record.hash, record, 1_000);
    rejected.length = 0;
    expect(await cache.get(record.hash)).toEqual({ kind: "unknown" });
    const signer = createValueSigner({ current: NEW });
    await redis.set(name, signer.signBytes(name, Buffer.from("not a key")));
    expect(await cache.get(record.hash)).toEqual({ kind: "unknown" });
    await redis.set(name, signer.signBytes(name, Buffer.of(1, 0x80)));
    expect(await cache.get(record.hash)).toEqual({ kind: "unknown" });
    expect(rejected).toEqual(["cache", "cache", "cache"]);
  });

  it("treats a key in the layout an older version wrote (JSON, signed as text) as a miss, not a forgery", async () => {
    const record = sampleRecord();
    const name = `kw:key:{${record.hash}}`;
    const older = createValueSigner({ current: NEW }).sign(name, `1000|${JSON.stringify({ keyId: record.keyId })}`);
    await redis.set(name, older);
    rejected.length = 0;
    expect(await cache.get(record.hash)).toEqual({ kind: "unknown" });
    expect(rejected).toEqual([]);
  });

  it("answers tombstones and absent markers only when signed", async () => {
    const record = sampleRecord();
    await cache.fill(record.hash, undefined, 1_000);
    expect(await cache.get(record.hash)).toEqual({ kind: "absent" });
    await cache.invalidate([record.hash]);
    expect(await cache.get(record.hash)).toEqual({ kind: "unknown" });
    await redis.set(`kw:key:{${record.hash}}`, "absent");
    rejected.length = 0;
    expect(await cache.get(record.hash)).toEqual({ kind: "unknown" });
    expect(rejected).toEqual(["cache"]);
  });
});
