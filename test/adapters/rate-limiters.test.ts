import { MemoryRateLimiter } from "../../src/adapters/memory/memory-rate-limiter.js";
import { sharedRedisUrl } from "../support/redis.js";
import { rateLimiterContract, redisRateLimiter } from "./rate-limiter-contract.js";

rateLimiterContract("memory", () => new MemoryRateLimiter());
rateLimiterContract(
  "redis",
  redisRateLimiter(() => ({ url: sharedRedisUrl })),
);
