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
// Real Redis; the limiter is made before beforeAll runs, so it reaches the client lazily.
rateLimiterContract("redis", () => ({ consume: (...args) => new RedisRateLimiter(redis).consume(...args) }));
