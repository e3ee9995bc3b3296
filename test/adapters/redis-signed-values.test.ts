import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedisClient } from "../../src/adapters/redis/redis-connection.js";
import { RedisKeyCache } from "../../src/adapters/redis/redis-key-cache.js";
import type { RejectedKind } from "../../src/adapters/redis/rejected-values.js";
import { createValueSigner } from "../../src/adapters/redis/value-signer.js";
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

  it("answers what it filled", async () => {
    const record = sampleRecord();
    await cache.fill(record.hash, record, 1_000);
    expect(await cache.get(record.hash)).toEqual({ kind: "hit", record, readAt: 1_000 });
  });

  it("treats a value moved to another key's name as a miss, and reports it", async () => {
    const [a, b] = [sampleRecord(), sampleRecord()];
    await cache.fill(a.hash, a, 1_000);
    const moved = await redis.get(`kw:key:{${a.hash}}`);
    await redis.set(`kw:key:{${b.hash}}`, moved as string);
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
    await redis.set(name, createValueSigner({ current: NEW }).sign(name, "not|json"));
    expect(await cache.get(record.hash)).toEqual({ kind: "unknown" });
    expect(rejected).toEqual(["cache", "cache"]);
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
