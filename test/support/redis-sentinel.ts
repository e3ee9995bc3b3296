import { freePortsBelow55000, RedisProcesses, redisCli, until } from "./redis-processes.js";

/** A Sentinel set of the test's own: a master, one replica, three sentinels, on private ports. */
export interface PrivateRedisSentinel {
  /** The sentinels, as KEYWARD_REDIS_TYPE=sentinel takes REDIS_URL. */
  readonly url: string;
  readonly masterName: string;
  /** The port of the master the sentinels name now. */
  master(): Promise<number>;
  /**
   * Kills the master outright and waits until the sentinels have promoted the
   * replica; `onKilled` runs once it is dead. The old master then starts
   * again, and the sentinels make it the new master's replica.
   */
  killMaster(onKilled?: () => void): Promise<void>;
  stop(): Promise<void>;
}

const MASTER_NAME = "keyward-test";
/** How long the master may be silent before a sentinel counts it as down: short, so a failover takes a few s. */
const DOWN_AFTER_MS = 1_000;

export async function startRedisSentinel(): Promise<PrivateRedisSentinel> {
  const processes = new RedisProcesses();
  const [masterPort, replicaPort, ...sentinelPorts] = (await freePortsBelow55000(5)) as [number, number, ...number[]];
  try {
    await processes.start(masterPort, []);
    await processes.start(replicaPort, ["--replicaof", "127.0.0.1", String(masterPort)]);
    await until("the replica to sync", async () =>
      (await redisCli(replicaPort, "info", "replication")).includes("master_link_status:up"),
    );
    const config = [
      `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${masterPort} 2`,
      `sentinel down-after-milliseconds ${MASTER_NAME} ${DOWN_AFTER_MS}`,
      `sentinel failover-timeout ${MASTER_NAME} 5000`,
      "",
    ].join("\n");
    await Promise.all(sentinelPorts.map((port) => processes.start(port, ["--sentinel"], config)));
    await until("the sentinels to know each other and the replica", async () => {
      for (const port of sentinelPorts) {
        const master = await redisCli(port, "sentinel", "master", MASTER_NAME);
        const fields = master.trim().split("\n");
        const field = (name: string) => fields[fields.indexOf(name) + 1];
        if (field("num-slaves") !== "1" || field("num-other-sentinels") !== "2") return false;
      }
      return true;
    });
  } catch (error) {
    await processes.stopAll();
    throw error;
  }
  const [firstSentinel] = sentinelPorts as [number];
  const master = async () =>
    Number((await redisCli(firstSentinel, "sentinel", "get-master-addr-by-name", MASTER_NAME)).trim().split("\n")[1]);

  return {
    url: sentinelPorts.map((port) => `redis://127.0.0.1:${port}`).join(","),
    masterName: MASTER_NAME,
    master,
    async killMaster(onKilled) {
      const old = await master();
      await processes.kill(old);
      onKilled?.();
      await until("the sentinels to promote the replica", async () => {
        const now = await master();
        return now !== old && (await redisCli(now, "role")).startsWith("master");
      });
      await processes.restart(old);
      await until("the old master to rejoin as a replica", async () =>
        (await redisCli(old, "info", "replication")).includes("master_link_status:up"),
      );
    },
    stop: () => processes.stopAll(),
  };
}
