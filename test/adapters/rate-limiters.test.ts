import { afterAll, beforeAll } from "vitest";
import { MemoryRateLimiter } from "../../src/adapters/memory/memory-rate-limiter.js";
import type { RedisClient } from "../../src/adapters/redis/redis-connection.js";
import { RedisRateLimiter } from "../../src/adapters/redis/redis-rate-limiter.js";
import { createLogger } from "../../src/observability/logger.js";
import { connectRedis, sharedRedisUrl } from "../support/redis.js";
import { rateLimiterContract } from "./rate-limiter-contract.js";

let redis: RedisClient;
beforeAll(async () => {
  redis = await connectRedis(sharedRedisUrl, createLogger("silent"));
});
afterAll(() => redis.close());

rateLimiterContract("memory", () => new MemoryRateLimiter());
// Real Redis; the limiter is made before beforeAll runs, so it is made on first use, then shared by every
// case (concurrent cases exercise its batching of everything asked in one turn).
let shared: RedisRateLimiter | undefined;
function sharedLimiter(): RedisRateLimiter {
  shared ??= new RedisRateLimiter(redis);
  return shared;
}
rateLimiterContract("redis", () => ({ consume: (...args) => sharedLimiter().consume(...args) }));
