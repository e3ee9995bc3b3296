import { freePortsBelow55000, RedisProcesses, redisCli, until } from "./redis-processes.js";

/** A Redis Cluster of the test's own: three masters, each with one replica, on private ports. */
export interface PrivateRedisCluster {
  /** The seed nodes, as KEYWARD_REDIS_TYPE=cluster takes REDIS_URL. */
  readonly url: string;
  /** The port of the master serving `key`'s slot, and of its replica. */
  shardOf(key: string): Promise<{ master: number; replica: number }>;
  /**
   * Kills a master outright and waits until its replica has taken over and
   * the cluster is whole; `onKilled` runs once the master is dead. The old
   * master then starts again and rejoins as the new master's replica.
   */
  killMaster(port: number, onKilled?: () => void): Promise<void>;
  /** Has a replica take over from its master (CLUSTER FAILOVER, no data lost) and waits until it has. */
  failover(replicaPort: number): Promise<void>;
  stop(): Promise<void>;
}

/** How long a node may be silent before the others count it as failed: short, so a failover takes ~2 s. */
const NODE_TIMEOUT_MS = 1_000;

export async function startRedisCluster(): Promise<PrivateRedisCluster> {
  const processes = new RedisProcesses();
  const ports = await freePortsBelow55000(6);
  try {
    await Promise.all(
      ports.map((port) =>
        processes.start(port, [
          "--cluster-enabled",
          "yes",
          "--cluster-config-file",
          `nodes-${port}.conf`,
          "--cluster-node-timeout",
          String(NODE_TIMEOUT_MS),
          // A replica takes over however long it was cut off from its master.
          "--cluster-replica-validity-factor",
          "0",
        ]),
      ),
    );
    const [first] = ports as [number];
    await redisCli(
      first,
      "--cluster",
      "create",
      ...ports.map((port) => `127.0.0.1:${port}`),
      "--cluster-replicas",
      "1",
      "--cluster-yes",
    );
    await untilWhole(ports);
  } catch (error) {
    await processes.stopAll();
    throw error;
  }
  let alive = [...ports];

  const shards = async () => {
    // CLUSTER SHARDS is Redis 7; CLUSTER NODES works everywhere: "<id> <ip:port@bus> <flags> <master id> ...".
    const lines = (await redisCli(alive[0] as number, "cluster", "nodes")).trim().split("\n");
    return lines.map((line) => {
      const [id, address, flags, masterId] = line.split(" ") as [string, string, string, string];
      return { id, port: Number(address.split("@")[0]?.split(":")[1]), flags: flags.split(","), masterId };
    });
  };

  return {
    url: ports.map((port) => `redis://127.0.0.1:${port}`).join(","),
    async shardOf(key) {
      const slot = Number((await redisCli(alive[0] as number, "cluster", "keyslot", key)).trim());
      type Range = [number, number, [string, number], [string, number] | undefined];
      let range: Range | undefined;
      // After an earlier failover, the old master may still be rejoining as this slot's replica.
      await until(`slot ${slot} to have a master and a replica`, async () => {
        const slots = (await redisCli(alive[0] as number, "--json", "cluster", "slots")).trim();
        range = (JSON.parse(slots) as Range[]).find(([from, to]) => from <= slot && slot <= to);
        return range?.[3] !== undefined;
      });
      const [, , master, replica] = range as Range;
      return { master: master[1], replica: (replica as [string, number])[1] };
    },
    async killMaster(port, onKilled) {
      const before = await shards();
      const master = before.find((node) => node.port === port);
      const replica = before.find((node) => node.masterId === master?.id);
      if (!master?.flags.includes("master") || !replica) throw new Error(`${port} is not a master with a replica`);
      alive = alive.filter((other) => other !== port);
      await processes.kill(port);
      onKilled?.();
      await until(`${replica.port} to take over from ${port}`, async () =>
        (await redisCli(replica.port, "role")).startsWith("master"),
      );
      await untilWhole(alive);
      await processes.restart(port);
      alive.push(port);
      await until(`${port} to rejoin as a replica`, async () => {
        const role = await redisCli(port, "role");
        return role.startsWith("slave") && role.includes("connected");
      });
      await untilWhole(alive);
    },
    async failover(replicaPort) {
      await redisCli(replicaPort, "cluster", "failover");
      await until(`${replicaPort} to take over`, async () =>
        (await redisCli(replicaPort, "role")).startsWith("master"),
      );
      await untilWhole(alive);
    },
    stop: () => processes.stopAll(),
  };
}

/** Waits until every node says the cluster is whole (all slots served). */
async function untilWhole(ports: readonly number[]): Promise<void> {
  await until("the cluster to be whole", async () => {
    for (const port of ports) {
      if (!(await redisCli(port, "cluster", "info")).includes("cluster_state:ok")) return false;
    }
    return true;
  });
}
