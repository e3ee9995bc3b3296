import { describe, expect, it } from "vitest";
import { withFallback } from "../../src/adapters/fallback-rate-limiter.js";
import { MemoryRateLimiter } from "../../src/adapters/memory/memory-rate-limiter.js";
import { RedisRateLimiter } from "../../src/adapters/redis/redis-rate-limiter.js";
import { createLogger } from "../../src/observability/logger.js";
import { StoreUnavailableError } from "../../src/ports/store-errors.js";
import { connectRedis, startPrivateRedis } from "../support/redis.js";

const limits = [{ name: "requests", limit: 2, durationMs: 60_000, cost: 1 }];

describe("when Redis cannot be reached", () => {
  it("'local' counts in this process, and goes back to Redis when it returns", async () => {
    const redis = await startPrivateRedis();
    const client = await connectRedis(redis.url, createLogger("silent"));
    const lines: string[] = [];
    const logger = createLogger("info", { write: (line: string) => void lines.push(line) });
    const limiter = withFallback(new RedisRateLimiter(client), new MemoryRateLimiter(), "local", logger);
    try {
      const now = Date.now();
      expect((await limiter.consume("key_a", limits, now))[0]?.remaining).toBe(1);
      await redis.stop();
      expect((await limiter.consume("key_a", limits, now))[0]).toMatchObject({ remaining: 1, exceeded: false });
      expect((await limiter.consume("key_a", limits, now))[0]).toMatchObject({ remaining: 0, exceeded: false });
      expect((await limiter.consume("key_a", limits, now))[0]?.exceeded).toBe(true);
      expect(lines.filter((line) => line.includes("Redis unavailable for rate limits"))).toHaveLength(1);
      await redis.start();
      await expect.poll(() => client.isReady, { timeout: 5_000 }).toBe(true);
      // A restarted Redis kept nothing (--save ""): counting starts again there.
      expect((await limiter.consume("key_a", limits, now))[0]).toMatchObject({ remaining: 1, exceeded: false });
      expect(lines.some((line) => line.includes("counted in Redis again"))).toBe(true);
    } finally {
      await client.close().catch(() => {});
      await redis.stop();
    }
  });

  it("'deny' fails the verification as unavailable", async () => {
    const redis = await startPrivateRedis();
    const client = await connectRedis(redis.url, createLogger("silent"));
    const limiter = withFallback(new RedisRateLimiter(client), new MemoryRateLimiter(), "deny", createLogger("silent"));
    try {
      await redis.stop();
      await expect(limiter.consume("key_b", limits, Date.now())).rejects.toThrow(StoreUnavailableError);
    } finally {
      await client.close().catch(() => {});
    }
  });
});
