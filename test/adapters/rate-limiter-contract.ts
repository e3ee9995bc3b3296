import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { closeRedis, type RedisClient, type RedisOptions } from "../../src/adapters/redis/redis-connection.js";
import { RedisRateLimiter } from "../../src/adapters/redis/redis-rate-limiter.js";
import { createLogger } from "../../src/observability/logger.js";
import type { RateLimiter } from "../../src/ports/rate-limiter.js";
import type { LimitRequest } from "../../src/ratelimit/limits.js";
import { connectRedisOf } from "../support/redis.js";

/**
 * A factory for the contract: a RedisRateLimiter over Redis as `redis` names
 * it (asked on first use, once the deployment runs), shared by every case, so
 * that concurrent cases exercise its batching of everything asked in one turn.
 */
export function redisRateLimiter(redis: () => RedisOptions): () => RateLimiter {
  let client: Promise<RedisClient> | undefined;
  let limiter: Promise<RedisRateLimiter> | undefined;
  afterAll(async () => {
    if (client) await closeRedis(await client);
  });
  return () => ({
    async consume(...args) {
      client ??= connectRedisOf(redis(), createLogger("silent"));
      limiter ??= client.then((connected) => new RedisRateLimiter(connected));
      return (await limiter).consume(...args);
    },
  });
}

/** The behaviour every RateLimiter adapter must show. `now` drives the windows, so no test waits. */
export function rateLimiterContract(adapter: string, open: () => RateLimiter): void {
  describe(`RateLimiter contract: ${adapter}`, () => {
    const limiter = open();
    const subject = () => `key_${randomBytes(6).toString("hex")}`;
    const perSecond = (limit: number, cost = 1): LimitRequest => ({ name: "requests", limit, durationMs: 1_000, cost });
    const t0 = 1_800_000_000_000; // a window boundary

    it("admits up to the limit in a window, then refuses until the next window", async () => {
      const key = subject();
      for (let i = 1; i <= 3; i++) {
        expect(await limiter.consume(key, [perSecond(3)], t0 + i)).toEqual([
          { name: "requests", limit: 3, remaining: 3 - i, resetAt: t0 + 1_000, exceeded: false },
        ]);
      }
      expect(await limiter.consume(key, [perSecond(3)], t0 + 999)).toEqual([
        { name: "requests", limit: 3, remaining: 0, resetAt: t0 + 1_000, exceeded: true },
      ]);
      expect((await limiter.consume(key, [perSecond(3)], t0 + 1_000))[0]).toMatchObject({
        remaining: 2,
        exceeded: false,
      });
    });

    it("counts the cost, and a cost of 0 only looks", async () => {
      const key = subject();
      expect((await limiter.consume(key, [perSecond(10, 7)], t0))[0]).toMatchObject({ remaining: 3, exceeded: false });
      expect((await limiter.consume(key, [perSecond(10, 4)], t0))[0]).toMatchObject({ remaining: 3, exceeded: true });
      expect((await limiter.consume(key, [perSecond(10, 0)], t0))[0]).toMatchObject({ remaining: 3, exceeded: false });
      expect((await limiter.consume(key, [perSecond(10, 3)], t0))[0]).toMatchObject({ remaining: 0, exceeded: false });
    });

    it("counts nothing anywhere when one of several limits is exceeded", async () => {
      const key = subject();
      const limits = [perSecond(100), { name: "burst", limit: 1, durationMs: 60_000, cost: 1 }];
      expect((await limiter.consume(key, limits, t0)).map((result) => result.exceeded)).toEqual([false, false]);
      const refused = await limiter.consume(key, limits, t0 + 1);
      expect(refused.map((result) => [result.remaining, result.exceeded])).toEqual([
        [99, false],
        [0, true],
      ]);
      expect((await limiter.consume(key, [perSecond(100)], t0 + 2))[0]?.remaining).toBe(98);
    });

    it("keeps subjects, names and durations apart", async () => {
      const [a, b] = [subject(), subject()];
      await limiter.consume(a, [perSecond(1)], t0);
      expect((await limiter.consume(b, [perSecond(1)], t0))[0]?.exceeded).toBe(false);
      expect((await limiter.consume(a, [{ ...perSecond(1), name: "other" }], t0))[0]?.exceeded).toBe(false);
      expect((await limiter.consume(a, [{ ...perSecond(1), durationMs: 2_000 }], t0))[0]?.exceeded).toBe(false);
      expect((await limiter.consume(a, [perSecond(1)], t0))[0]?.exceeded).toBe(true);
    });

    it("admits exactly the limit under concurrent demand", async () => {
      const key = subject();
      const results = await Promise.all(Array.from({ length: 100 }, () => limiter.consume(key, [perSecond(37)], t0)));
      expect(results.filter(([result]) => !result?.exceeded)).toHaveLength(37);
    });

    it("admits exactly each limit when many subjects are asked at once", async () => {
      const keys = Array.from({ length: 20 }, () => subject());
      const asked = keys.flatMap((key) => Array.from({ length: 8 }, () => limiter.consume(key, [perSecond(5)], t0)));
      const results = await Promise.all(asked);
      for (let k = 0; k < keys.length; k++) {
        const mine = results.slice(k * 8, k * 8 + 8);
        expect(mine.filter(([result]) => !result?.exceeded)).toHaveLength(5);
      }
    });

    it("issue 9 item 3: refuses a negative, fractional or non-numeric cost and counts nothing", async () => {
      const key = subject();
      for (const cost of [-1, -1e12, 0.5, Number.NaN, Number.POSITIVE_INFINITY]) {
        await expect(limiter.consume(key, [perSecond(3, cost)], t0)).rejects.toThrow(RangeError);
      }
      expect((await limiter.consume(key, [perSecond(3)], t0))[0]?.remaining).toBe(2);
    });

    it("answers no results for no limits", async () => {
      expect(await limiter.consume(subject(), [], t0)).toEqual([]);
    });
  });
}
