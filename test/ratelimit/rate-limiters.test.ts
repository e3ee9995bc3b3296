import { afterAll, beforeAll } from "vitest";
import { createLogger } from "../../src/logger.js";
import { MemoryRateLimiter } from "../../src/store/memory/memory-rate-limiter.js";
import { connectRedis, type RedisClient } from "../../src/store/redis/redis-connection.js";
import { RedisRateLimiter } from "../../src/store/redis/redis-rate-limiter.js";
import { sharedRedisUrl } from "../support/redis.js";
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
