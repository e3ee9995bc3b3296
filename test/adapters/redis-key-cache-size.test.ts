import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedisClient } from "../../src/adapters/redis/redis-connection.js";
import { RedisKeyCache } from "../../src/adapters/redis/redis-key-cache.js";
import { createValueSigner } from "../../src/adapters/redis/value-signer.js";
import { createLogger } from "../../src/observability/logger.js";
import { typicalKey } from "../support/records.js";
import { connectRedis, sharedRedisUrl } from "../support/redis.js";

describe("issue 11: a key in the shared cache", () => {
  let redis: RedisClient;
  beforeAll(async () => {
    redis = await connectRedis(sharedRedisUrl, createLogger("silent"));
  });
  afterAll(() => redis.close());

  it("takes at most 250 bytes of Redis for a typical key (MEMORY USAGE: name, value, expiry and Redis's own overhead)", async () => {
    const signer = createValueSigner({ current: "the shared cache size test's secret, 32+ chars" });
    const cache = new RedisKeyCache(
      redis,
      { recordMs: 60_000, absentMs: 60_000, tombstoneMs: 60_000 },
      signer,
      () => {},
    );
    const key = typicalKey();
    await cache.fill(key.hash, key, Date.now());
    const name = `kw:key:{${key.hash}}`;
    try {
      const used = await redis.memoryUsage(name);
      console.log(`a typical key in Redis: ${used} bytes (MEMORY USAGE)`);
      expect(used).toBeGreaterThan(0);
      expect(used).toBeLessThanOrEqual(250);
      expect((await cache.get(key.hash)).kind).toBe("hit");
    } finally {
      await redis.del(name);
    }
  });
});
