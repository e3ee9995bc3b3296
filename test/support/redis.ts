import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import net from "node:net";
import {
  openRedis,
  type RedisClient,
  type RedisOptions,
  type SingleClient,
  whenReady,
} from "../../src/adapters/redis/redis-connection.js";
import type { Logger } from "../../src/observability/logger.js";

/** A redis-server of the test's own on a free port, so it can be stopped and restarted. */
export interface PrivateRedis {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Empties it (FLUSHALL), as an operator or an eviction storm might. */
  flush(): Promise<void>;
}

/** The shared Redis on 127.0.0.1:6379, or REDIS_URL when set. */
export const sharedRedisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/**
 * Starts one; `args` adds redis-server options, and a function of the port
 * replaces the plain `--port` (for a TLS port, say).
 */
export async function startPrivateRedis(args: string[] | ((port: number) => string[]) = []): Promise<PrivateRedis> {
  const port = await freePort();
  const portArgs = typeof args === "function" ? args(port) : ["--port", String(port), ...args];
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn("redis-server", [...portArgs, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
      stdio: "ignore",
    });
    await waitForPort(port);
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    await new Promise((resolve) => {
      running.once("exit", resolve);
      running.kill("SIGKILL");
    });
  };
  const flush = async () => {
    execFileSync("redis-cli", ["-p", String(port), "flushall"]);
  };
  await start();
  return { url: `redis://127.0.0.1:${port}`, port, start, stop, flush };
}

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Waits until something listens on the port (every 50 ms, `attempts` times). */
export async function waitForPort(port: number, attempts = 100): Promise<void> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => resolve(socket.end() !== undefined));
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nothing listens on ${port}`);
}

/** A client of Keyward's own kind, once connected (for tests that need Redis before going on). */
export async function connectRedisOf(options: RedisOptions, logger: Logger): Promise<RedisClient> {
  const client = openRedis(options, logger);
  if (!(await whenReady(client, 30_000))) throw new Error(`Redis (${options.type ?? "single"}) did not answer`);
  return client;
}

/** A client of one Redis server, once connected. */
export async function connectRedis(url: string, logger: Logger): Promise<SingleClient> {
  return (await connectRedisOf({ url }, logger)) as SingleClient;
}
