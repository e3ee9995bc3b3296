import { afterAll, beforeAll } from "vitest";
import type { RedisOptions } from "../../src/adapters/redis/redis-connection.js";
import { sharedCacheContract } from "../cache/shared-cache-contract.js";
import { type PrivateRedisSentinel, startRedisSentinel } from "../support/redis-sentinel.js";
import { rateLimiterContract, redisRateLimiter } from "./rate-limiter-contract.js";
import { keywardOver } from "./redis-deployment-keyward.js";
import { failoverCases } from "./redis-failover-cases.js";

// A Sentinel set of this file's own (a master, a replica, 3 sentinels), stopped after everything else here.
let sentinel: PrivateRedisSentinel | undefined;
beforeAll(async () => {
  sentinel = await startRedisSentinel();
}, 120_000);
afterAll(async () => {
  await sentinel?.stop();
});
function running(): PrivateRedisSentinel {
  if (!sentinel) throw new Error("the Sentinel set did not start");
  return sentinel;
}
const options = (): RedisOptions => ({ url: running().url, type: "sentinel", sentinelMaster: running().masterName });

rateLimiterContract("redis sentinel", redisRateLimiter(options));
sharedCacheContract("redis sentinel", options);
keywardOver("redis sentinel", options, () => ({
  KEYWARD_REDIS_TYPE: "sentinel",
  REDIS_URL: running().url,
  KEYWARD_REDIS_SENTINEL_MASTER: running().masterName,
}));
// Only one failover: the old master stays dead, and this set has no second replica to promote.
failoverCases("redis sentinel", options, { crash: (_name, onKilled) => running().killMaster(onKilled) });
