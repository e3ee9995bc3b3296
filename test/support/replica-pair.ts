import { connectRoute, type RouteClient } from "./clients.js";
import { TEST_REDIS_SECRET } from "./keyward.js";
import { startTestMongo, type TestMongo } from "./mongo.js";
import { type KeywardProcess, startKeywardProcess } from "./process.js";
import { type PrivateRedis, startPrivateRedis } from "./redis.js";

/**
 * Two Keyward processes sharing one MongoDB and one Redis (of the test's own,
 * so it can be restarted), as two replicas of a deployment would, with a
 * gRPC client on each.
 */
export interface ReplicaPair {
  readonly mongo: TestMongo;
  readonly redis: PrivateRedis;
  /** The settings both were started with. */
  readonly env: Record<string, string>;
  readonly replicas: readonly [KeywardProcess, KeywardProcess];
  readonly a: RouteClient;
  readonly b: RouteClient;
  /** Stops whatever still runs (a replica a test killed is left alone). */
  stop(): Promise<void>;
}

export async function startReplicaPair(rootKey: string, settings: Record<string, string> = {}): Promise<ReplicaPair> {
  const [mongo, redis] = await Promise.all([startTestMongo(), startPrivateRedis()]);
  const env = {
    MONGODB_URI: mongo.uri,
    MONGODB_DATABASE: mongo.database,
    REDIS_URL: redis.url,
    KEYWARD_REDIS_SECRET: TEST_REDIS_SECRET,
    KEYWARD_ROOT_KEY: rootKey,
    ...settings,
  };
  const started = await Promise.allSettled([
    startKeywardProcess("node", ["dist/src/main.js"], env),
    startKeywardProcess("node", ["dist/src/main.js"], env),
  ]);
  const running = started.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
  const stopAll = async () => {
    const alive = running.filter(({ child }) => child.exitCode === null && child.signalCode === null);
    await Promise.all(alive.map((replica) => replica.signal("SIGTERM")));
    await Promise.all([mongo.stop(), redis.stop()]);
  };
  const failed = started.find((result) => result.status === "rejected");
  if (failed) {
    await stopAll();
    throw failed.reason;
  }
  const replicas = running as [KeywardProcess, KeywardProcess];
  const [a, b] = replicas.map((replica) => connectRoute("grpc-js → gRPC port", { ...replica, rootKey })) as [
    RouteClient,
    RouteClient,
  ];
  return {
    mongo,
    redis,
    env,
    replicas,
    a,
    b,
    async stop() {
      a.close();
      b.close();
      await stopAll();
    },
  };
}
