import { afterAll, beforeAll } from "vitest";
import type { RedisOptions } from "../../src/adapters/redis/redis-connection.js";
import { sharedCacheContract } from "../cache/shared-cache-contract.js";
import { type PrivateRedisCluster, startRedisCluster } from "../support/redis-cluster.js";
import { rateLimiterContract, redisRateLimiter } from "./rate-limiter-contract.js";
import { keywardOver } from "./redis-deployment-keyward.js";
import { failoverCases } from "./redis-failover-cases.js";

// A Redis Cluster of this file's own (3 masters, 3 replicas), stopped after everything else here.
let cluster: PrivateRedisCluster | undefined;
beforeAll(async () => {
  cluster = await startRedisCluster();
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
});
function running(): PrivateRedisCluster {
  if (!cluster) throw new Error("the cluster did not start");
  return cluster;
}
const options = (): RedisOptions => ({ url: running().url, type: "cluster" });

rateLimiterContract("redis cluster", redisRateLimiter(options));
sharedCacheContract("redis cluster", options);
keywardOver("redis cluster", options, () => ({ KEYWARD_REDIS_TYPE: "cluster", REDIS_URL: running().url }));
failoverCases("redis cluster", options, {
  crash: async (name, onKilled) => running().killMaster((await running().shardOf(name)).master, onKilled),
  graceful: async (name) => running().failover((await running().shardOf(name)).replica),
});
