/**
 * `npm run bench:memory -- [keys] [rounds]`: how much memory one Keyward
 * process holds for many keys. Starts dist/src/main.js in dev mode (keys in
 * memory; with `--redis`, also a redis-server of its own on a free loopback
 * port, or REDIS_URL, which must be on loopback), creates `keys` keys
 * (default 20,000) through the API,
 * then verifies each of them `rounds` times (default 3). Prints the server's
 * RSS, V8 heap and off-heap memory when empty, after the keys were created,
 * and after the verifications, each as found and after a full garbage
 * collection. Never part of the tests; it stops by itself.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createClient as createRedisClient } from "redis";
import { VerifyCode } from "../gen/keyward/v1/key_pb.js";
import { KeyService } from "../gen/keyward/v1/key_service_pb.js";
import { generateRootKey } from "../src/composition/bootstrap.js";

const HOST = "127.0.0.1";
const CONCURRENCY = 64;
/** A meta object of the size many callers attach (a few ids and flags). */
const META = { customer: "cus_0123456789abcdef", plan: "enterprise", region: "eu-west-1", seats: 25 };

interface Options {
  readonly keys: number;
  readonly rounds: number;
  readonly redis: boolean;
  /** REDIS_URL, when given with --redis; otherwise the benchmark starts a redis-server of its own. */
  readonly redisUrl?: string | undefined;
  /** Extra settings for the server, as NAME=value arguments. */
  readonly env: Record<string, string>;
}

function readOptions(args: readonly string[]): Options {
  const numbers = args.filter((arg) => /^\d+$/.test(arg)).map(Number);
  const env = Object.fromEntries(
    args
      .filter((arg) => /^[A-Z_]+=/.test(arg))
      .map((arg) => [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]),
  );
  const redisUrl = args.includes("--redis") ? process.env.REDIS_URL : undefined;
  if (redisUrl && !["127.0.0.1", "localhost"].includes(new URL(redisUrl).hostname)) {
    throw new Error("bench:memory talks to Redis on 127.0.0.1 only");
  }
  return { keys: numbers[0] ?? 20_000, rounds: numbers[1] ?? 3, redis: args.includes("--redis"), redisUrl, env };
}

interface Server {
  readonly child: ChildProcess;
  readonly grpcPort: number;
  readonly httpPort: number;
}

/**
 * Starts Keyward on free loopback ports. `--expose-gc` and a SIGUSR2 handler
 * let the benchmark ask for a full collection before it reads the figures.
 */
async function startServer(rootKey: string, options: Options, redisUrl: string | undefined): Promise<Server> {
  const [grpcPort, httpPort] = [await freePort(), await freePort()];
  const gcOnSignal = "data:text/javascript,process.on('SIGUSR2',()=>globalThis.gc())";
  const child = spawn(process.execPath, ["--expose-gc", "--import", gcOnSignal, "dist/src/main.js"], {
    env: {
      PATH: process.env.PATH,
      KEYWARD_ROOT_KEY: rootKey,
      KEYWARD_HOST: HOST,
      KEYWARD_GRPC_PORT: String(grpcPort),
      KEYWARD_HTTP_PORT: String(httpPort),
      KEYWARD_LOG_LEVEL: "warn",
      ...(redisUrl
        ? { REDIS_URL: redisUrl, KEYWARD_REDIS_SECRET: "the memory benchmark's redis secret, 32+ chars" }
        : {}),
      ...options.env,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let output = "";
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  const server = { child, grpcPort, httpPort };
  for (let waited = 0; ; waited += 100) {
    if (child.exitCode !== null || waited > 30_000) throw new Error(`keyward did not start:\n${output}`);
    if (await metrics(server).catch(() => undefined)) return server;
    await sleep(100);
  }
}

/** The process's memory as Prometheus reports it, with the RSS from /proc. */
interface Memory {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  /** What the key cache holds by its own estimate (keyward_cache_bytes). */
  readonly cache: number;
}

async function metrics(server: Server): Promise<string> {
  const response = await fetch(`http://${HOST}:${server.httpPort}/metrics`);
  if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
  return response.text();
}

async function memory(server: Server, collect: boolean): Promise<Memory> {
  if (collect) {
    server.child.kill("SIGUSR2");
    await sleep(1_000);
  }
  const text = await metrics(server);
  const gauge = (name: string) => Number(new RegExp(`^${name} (\\S+)`, "m").exec(text)?.[1] ?? Number.NaN);
  const status = readFileSync(`/proc/${server.child.pid}/status`, "utf8");
  const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? Number.NaN);
  return {
    rss: rssKb * 1024,
    heapUsed: gauge("nodejs_heap_size_used_bytes"),
    heapTotal: gauge("nodejs_heap_size_total_bytes"),
    external: gauge("nodejs_external_memory_bytes"),
    cache: gauge("keyward_cache_bytes"),
  };
}

/** Runs `work` for 0..count-1 with at most CONCURRENCY at a time, printing progress. */
async function inParallel(label: string, count: number, work: (index: number) => Promise<void>): Promise<number> {
  const started = performance.now();
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      await work(index);
      done += 1;
      if (done % 5_000 === 0) process.stderr.write(`  ${label}: ${done}/${count}\n`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return (performance.now() - started) / 1_000;
}

/** A redis-server of the benchmark's own on a free loopback port, without persistence; stopped at the end. */
async function startRedis(): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn("redis-server", ["--port", String(port), "--bind", HOST, "--save", "", "--appendonly", "no"], {
    stdio: "ignore",
  });
  const net = await import("node:net");
  for (let waited = 0; ; waited += 50) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, HOST, () => {
        socket.end();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (open) return { url: `redis://${HOST}:${port}`, child };
    if (child.exitCode !== null || waited > 10_000) throw new Error("redis-server did not start (is it installed?)");
    await sleep(50);
  }
}

async function main(): Promise<void> {
  const options = readOptions(process.argv.slice(2));
  const rootKey = generateRootKey();
  const redis = options.redis && !options.redisUrl ? await startRedis() : undefined;
  const redisUrl = options.redisUrl ?? redis?.url;
  let server: Server | undefined;
  try {
    server = await startServer(rootKey, options, redisUrl);
    const running = server;
    const rows: [string, Memory][] = [];
    const measure = async (label: string) => {
      rows.push([label, await memory(running, false)]);
      rows.push([`${label}, after GC`, await memory(running, true)]);
    };
    const client = createClient(KeyService, createGrpcTransport({ baseUrl: `http://${HOST}:${server.grpcPort}` }));
    const headers = { authorization: `Bearer ${rootKey}` };
    await measure("empty");
    const keys: string[] = new Array(options.keys);
    const createSeconds = await inParallel("created", options.keys, async (index) => {
      const created = await client.createKey(
        { name: `bench key ${index}`, ownerId: `user_${index}`, meta: { ...META, index } },
        { headers },
      );
      keys[index] = created.key;
    });
    await measure(`${options.keys} keys`);
    const verifySeconds = await inParallel("verified", options.keys * options.rounds, async (index) => {
      const answer = await client.verifyKey({ key: keys[index % options.keys] ?? "" }, { headers });
      if (answer.code !== VerifyCode.VALID) throw new Error(`a key did not verify: ${VerifyCode[answer.code]}`);
    });
    await measure(`verified ${options.rounds}× each`);
    print(options, rows, createSeconds, verifySeconds);
    if (redisUrl) console.log(`\n${await redisPerKey(redisUrl)}`);
  } finally {
    server?.child.kill("SIGTERM");
    redis?.child.kill("SIGTERM");
  }
}

/** MEMORY USAGE of the cached keys Redis still holds (they live the cache TTL), over a sample of up to 500. */
async function redisPerKey(url: string): Promise<string> {
  const redis = createRedisClient({ url });
  await redis.connect();
  try {
    const sizes: number[] = [];
    for await (const names of redis.scanIterator({ MATCH: "kw:key:*", COUNT: 500 })) {
      for (const name of names) {
        const size = await redis.memoryUsage(name);
        if (size !== null) sizes.push(size);
      }
      if (sizes.length >= 500) break;
    }
    sizes.sort((a, b) => a - b);
    const median = sizes[Math.floor(sizes.length / 2)];
    return `Redis: MEMORY USAGE of a cached key (kw:key:<hash>), median of ${sizes.length}: ${median ?? "–"} bytes`;
  } finally {
    redis.destroy();
  }
}

function print(options: Options, rows: [string, Memory][], createSeconds: number, verifySeconds: number): void {
  const mib = (bytes: number) => (Number.isNaN(bytes) ? "–" : (bytes / 2 ** 20).toFixed(0));
  const settings = Object.entries(options.env).map(([name, value]) => `${name}=${value}`);
  console.log(
    `\nKeyward, dev mode${options.redis ? " with Redis" : ""}${settings.length ? ` (${settings.join(", ")})` : ""}: ` +
      `${options.keys} keys created in ${createSeconds.toFixed(0)} s, ` +
      `verified ${options.rounds}× each in ${verifySeconds.toFixed(0)} s\n`,
  );
  console.log("| state | RSS MiB | heap used MiB | heap total MiB | external MiB | key cache MiB (estimate) |");
  console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
  for (const [label, figures] of rows) {
    const cells = [figures.rss, figures.heapUsed, figures.heapTotal, figures.external, figures.cache].map(mib);
    console.log(`| ${label} | ${cells.join(" | ")} |`);
  }
}

async function freePort(): Promise<number> {
  const net = await import("node:net");
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, HOST, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
