/**
 * What the benchmark scripts share: starting a Keyward server from a build,
 * making a key on it, writing gRPC request bodies, and driving h2load
 * (Debian's nghttp2-client) closed-loop or at a fixed rate.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, type DescMessage, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { VerifyCode } from "../gen/keyward/v1/key_pb.js";
import { type CreateKeyRequestSchema, KeyService } from "../gen/keyward/v1/key_service_pb.js";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
/** Set: every server of the run keeps its keys in that MongoDB; unset: in its own memory (dev mode). */
export const MONGODB_URI = process.env.MONGODB_URI;
/**
 * The database the benchmark uses there: never the deployment's own, since
 * every run starts with a new KEYWARD_ROOT_KEY (which rotates the bootstrap
 * root key) and leaves its keys behind.
 */
const MONGODB_DATABASE = process.env.BENCH_MONGODB_DATABASE ?? "keyward_bench";

/** Where the run's store is, for the printed table (the address without user or password). */
export function storeName(): string {
  if (!MONGODB_URI) return "the in-memory store (dev mode: no MONGODB_URI)";
  const host = MONGODB_URI.replace(/^mongodb(\+srv)?:\/\/([^@/]*@)?/, "").split("/")[0];
  return `MongoDB at ${host}, database ${MONGODB_DATABASE}`;
}

export const scratch = mkdtempSync(join(tmpdir(), "keyward-bench-"));

export function removeScratch(): void {
  rmSync(scratch, { recursive: true, force: true });
}

export interface Server {
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly child: ChildProcess;
  /** performance.now() when the process was spawned. */
  readonly spawnedAt: number;
  /** Everything the process wrote so far (logs; with --trace-gc, its GC lines). */
  output(): string;
}

export interface StartOptions {
  /** A directory holding another build (its dist/src/main.js), to compare with; default this one. */
  readonly build?: string;
  /** Flags for node itself: --trace-gc, --cpu-prof, ... */
  readonly nodeFlags?: readonly string[];
}

export function requireH2load(): void {
  if (spawnSync("h2load", ["--version"]).error) {
    console.error("bench: h2load is missing. Install it with: apt-get install nghttp2-client");
    process.exit(1);
  }
}

/** Starts dist/src/main.js (with Redis) on free ports and waits until it listens. */
export async function startServer(
  rootKey: string,
  env: Record<string, string>,
  options: StartOptions = {},
): Promise<Server> {
  const [grpcPort, httpPort] = [await freePort(), await freePort()];
  const spawnedAt = performance.now();
  const child = spawn("node", [...(options.nodeFlags ?? []), join(options.build ?? ".", "dist/src/main.js")], {
    env: {
      ...process.env,
      KEYWARD_ROOT_KEY: rootKey,
      KEYWARD_GRPC_PORT: String(grpcPort),
      KEYWARD_HTTP_PORT: String(httpPort),
      REDIS_URL,
      // As in production: every value in Redis signed, under one secret for the deployment.
      KEYWARD_REDIS_SECRET: "the benchmark deployment's redis secret, 32+ chars",
      KEYWARD_LOG_LEVEL: "info",
      ...(MONGODB_URI ? { MONGODB_DATABASE } : {}),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  for (let waited = 0; !output.includes('"msg":"keyward started"'); waited += 50) {
    if (child.exitCode !== null || waited > 30_000) throw new Error(`keyward did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { grpcPort, httpPort, child, spawnedAt, output: () => output };
}

/** Stops a server and waits until it has exited and its output is read (with what --trace-gc, --cpu-prof wrote). */
export async function stopServer(server: Server): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  // "close", not "exit": the pipes may still hold output when the process has exited.
  const exited = new Promise((resolve) => server.child.once("close", resolve));
  server.child.kill("SIGTERM");
  await exited;
}

/** Creates a key on a server and checks that it verifies there, so that no row measures refusals. */
export async function createKey(
  server: Server,
  rootKey: string,
  init: MessageInitShape<typeof CreateKeyRequestSchema>,
): Promise<string> {
  const client = createClient(KeyService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${server.grpcPort}` }));
  const headers = { authorization: `Bearer ${rootKey}` };
  const { key } = await client.createKey(init, { headers });
  const answer = await client.verifyKey({ key }, { headers });
  if (answer.code !== VerifyCode.VALID) throw new Error(`bench key does not verify: ${VerifyCode[answer.code]}`);
  return key;
}

async function freePort(): Promise<number> {
  const net = await import("node:net");
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A gRPC request body, in a file for h2load: the 5-byte length prefix, then the message. */
export function grpcBody<T extends DescMessage>(schema: T, init: MessageInitShape<T>): string {
  const message = toBinary(schema, create(schema, init));
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  const path = join(scratch, `body-${Math.random().toString(36).slice(2)}.bin`);
  writeFileSync(path, frame);
  return path;
}

/** What one h2load run measured; latencies in milliseconds, from its per-request log. */
export interface Figures {
  readonly rps: number;
  /** CPU time the server used during the run, per request, in microseconds (when its pid was given). */
  readonly cpuUsPerRequest?: number | undefined;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

export interface Load {
  readonly requests: number;
  readonly clients: number;
  readonly streams: number;
  /** Requests per second for each client (h2load --rps); absent: as fast as answers come (closed loop). */
  readonly ratePerClient?: number;
}

let runs = 0;

const CLOCK_TICKS = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

/**
 * CPU time a process has used so far (user and system, all its threads), in
 * microseconds, from /proc. On a machine shared with other work, the CPU a
 * server spends per request moves far less than the requests it answers per
 * second, which follow whatever else runs.
 */
export function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  // utime and stime are the 14th and 15th fields of the line, the 12th and 13th after the name.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1_000_000) / CLOCK_TICKS;
}

/** One h2load run of `load` against `url`, POSTing `body` as gRPC with the root key; `server`: measure its CPU. */
export function h2load(url: string, body: string, rootKey: string, load: Load, server?: Server): Figures {
  runs += 1;
  const pid = server?.child.pid;
  const cpuBefore = pid === undefined ? 0 : cpuMicros(pid);
  const log = join(scratch, `requests-${runs}.log`);
  const output = execFileSync(
    "h2load",
    [
      `-n${load.requests}`,
      `-c${load.clients}`,
      `-m${load.streams}`,
      "-t1",
      ...(load.ratePerClient === undefined ? [] : [`--rps=${load.ratePerClient}`]),
      `-d${body}`,
      "-Hcontent-type: application/grpc",
      "-Hte: trailers",
      `-Hauthorization: Bearer ${rootKey}`,
      `--log-file=${log}`,
      url,
    ],
    { encoding: "utf8" },
  );
  const failed = Number(output.match(/(\d+) failed/)?.[1] ?? 0);
  if (failed > 0) throw new Error(`h2load: ${failed} requests failed\n${output}`);
  const rps = Number(output.match(/finished in [\d.]+m?s, ([\d.]+) req\/s/)?.[1]);
  const latencies = readFileSync(log, "utf8")
    .trim()
    .split("\n")
    .map((line) => Number(line.split("\t")[2]) / 1000)
    .sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? Number.NaN;
  const cpuUsPerRequest = pid === undefined ? undefined : (cpuMicros(pid) - cpuBefore) / latencies.length;
  return { rps, cpuUsPerRequest, p50: at(0.5), p99: at(0.99), p999: at(0.999), max: latencies.at(-1) ?? Number.NaN };
}

/**
 * An open-loop load: `rate` requests a second in all, spread evenly over
 * `clients` connections, for `seconds`. Each connection may have many
 * streams open, so a slow answer does not hold back the next request (a
 * closed loop would wait, and hide the tail).
 */
export function fixedRate(rate: number, seconds: number, clients = Math.min(20, Math.ceil(rate / 100))): Load {
  return { requests: rate * seconds, clients, streams: 100, ratePerClient: rate / clients };
}

/** The median of some numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/**
 * GC pauses that a `node --trace-gc` process reported between two moments
 * (milliseconds since it was spawned; its lines carry the time since its
 * start, a few milliseconds later): how many, their sum and the longest, in
 * milliseconds. Node buffers these lines on a pipe: read them after the
 * process has exited.
 */
export function gcPauses(traceGcOutput: string, fromMs: number, toMs: number) {
  let count = 0;
  let totalMs = 0;
  let maxMs = 0;
  // e.g. "[123:0x5f…]    5012 ms: Scavenge 9.1 (12.3) -> 8.2 (12.3) MB, 0.41 / 0.00 ms  (average mu = …"
  for (const match of traceGcOutput.matchAll(
    /\s(\d+) ms: (?:Scavenge|Mark-Compact|Mark-Sweep|Minor)[^,\n]*, ([\d.]+) \//g,
  )) {
    const at = Number(match[1]);
    if (at < fromMs || at > toMs) continue;
    const ms = Number(match[2]);
    count += 1;
    totalMs += ms;
    maxMs = Math.max(maxMs, ms);
  }
  return { count, totalMs, maxMs };
}
