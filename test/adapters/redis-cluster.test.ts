import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeRedis, openRedis, type RedisOptions, whenReady } from "../../src/adapters/redis/redis-connection.js";
import { createLogger } from "../../src/observability/logger.js";
import { sharedCacheContract } from "../cache/shared-cache-contract.js";
import { type PrivateRedisCluster, startRedisCluster } from "../support/redis-cluster.js";
import { freePortsBelow55000 } from "../support/redis-processes.js";
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

describe("a cluster that does not answer", () => {
  it("leaves the client waiting, retrying in the background, and closing cleanly", async () => {
    const [dead] = await freePortsBelow55000(1);
    const logs: string[] = [];
    const logger = createLogger("warn", { write: (line: string) => void logs.push(line) });
    const client = openRedis({ url: `redis://127.0.0.1:${dead}`, type: "cluster" }, logger);
    expect(await whenReady(client, 1_000)).toBe(false);
    await closeRedis(client);
    expect(logs.filter((line) => line.includes("redis connection failed"))).toHaveLength(1); // one line per outage
  });

  it("is found from any seed that answers", async () => {
    const [dead] = await freePortsBelow55000(1);
    const client = openRedis(
      { url: `redis://127.0.0.1:${dead},${running().url}`, type: "cluster" },
      createLogger("silent"),
    );
    try {
      expect(await whenReady(client, 10_000)).toBe(true);
    } finally {
      await closeRedis(client);
    }
  });
});
