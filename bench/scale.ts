/**
 * `npm run bench:scale`: Keyward holding many keys. Creates BENCH_SCALE_KEYS
 * keys (1,000,000 by default) with CreateKeys, 1,000 a call, keeping their
 * secrets in this process only (never printed); then verifies keys drawn
 * uniformly from the first 1k, 100k and all of them, each for a fixed time,
 * with a load generator of its own (h2load sends one body per run, and
 * every request here carries another key). After each row it prints
 * VerifyKey/s, the share of lookups each cache layer answered (from the
 * server's /metrics), the server's RSS, and what Redis spends per cached
 * key. The server runs in dev mode (in-memory store) with a private
 * redis-server this script starts and stops, or on MONGODB_URI when set.
 * Never part of the tests; it fails only when it cannot run at all.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createConnection } from "node:net";
import { createClient as connectRpc } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createClient as createRedisClient } from "redis";
import { VerifyCode } from "../gen/keyward/v1/key_pb.js";
import { KeyService, VerifyKeyRequestSchema, VerifyKeyResponseSchema } from "../gen/keyward/v1/key_service_pb.js";
import { generateRootKey } from "../src/composition/bootstrap.js";
import { openSession, unary } from "./h2-unary.js";
import {
  LAYERS,
  layerShares,
  parseEnvPairs,
  quantile,
  rowSizes,
  samplesByLabel,
  uniformIndex,
} from "./scale-figures.js";
import { cpuMicros, removeScratch, type Server, startServer, stopServer, storeName } from "./support.js";

const KEYS = Number(process.env.BENCH_SCALE_KEYS ?? 1_000_000);
const SECONDS = Number(process.env.BENCH_SCALE_SECONDS ?? 10);
/** Seconds of the same load before each row is measured, so that a row is not mostly first contacts. */
const WARMUP_SECONDS = Number(process.env.BENCH_SCALE_WARMUP_SECONDS ?? 3);
/** Requests in flight at once, spread over CONNECTIONS HTTP/2 connections. */
const CONCURRENCY = Number(process.env.BENCH_SCALE_CONCURRENCY ?? 128);
const CONNECTIONS = 4;
const BATCH = 1_000;
/** CreateKeys calls in flight at once during the import. */
const BATCHES_IN_FLIGHT = 4;
/** Cached key names whose MEMORY USAGE is averaged. */
const MEMORY_SAMPLE = 1_000;
const SERVER_ENV = parseEnvPairs(process.env.BENCH_SCALE_ENV);

interface PrivateRedis {
  readonly url: string;
  readonly child: ChildProcess;
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

/** A redis-server of this run's own, so that its memory is the cache's and nobody else's. */
async function startRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: "ignore" },
  );
  for (let waited = 0; ; waited += 50) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection(port, "127.0.0.1");
      socket.once("connect", () => resolve(socket.end() !== undefined));
      socket.once("error", () => resolve(false));
    });
    if (open) break;
    if (child.exitCode !== null || waited > 10_000) throw new Error("redis-server did not start (is it installed?)");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url: `redis://127.0.0.1:${port}`, child };
}

function rssMiB(pid: number): number {
  const kib = Number(readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)?.[1]);
  return kib / 1024;
}

async function cacheLookups(server: Server): Promise<Record<string, number>> {
  const page = await (await fetch(`http://127.0.0.1:${server.httpPort}/metrics`)).text();
  return samplesByLabel(page, "keyward_cache_lookups_total", "layer");
}

/** Creates `count` keys in batches, a few calls at a time; returns their secrets in order. */
async function importKeys(client: ReturnType<typeof keyClient>, rootKey: string, count: number): Promise<string[]> {
  const secrets: string[] = new Array(count);
  const headers = { authorization: `Bearer ${rootKey}` };
  let next = 0;
  let reported = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < count) {
      const from = next;
      const size = Math.min(BATCH, count - from);
      next += size;
      const keys = Array.from({ length: size }, () => ({ name: "scale" }));
      const { results } = await client.createKeys({ keys }, { headers, timeoutMs: 120_000 });
      results.forEach((result, index) => {
        if (result.result.case !== "created")
          throw new Error(`CreateKeys item failed: ${result.result.value?.message}`);
        secrets[from + index] = result.result.value.key;
      });
      if (from + size - reported >= count / 10 && from + size < count) {
        reported = from + size;
        const rate = reported / ((performance.now() - started) / 1000);
        console.log(`  ${reported.toLocaleString("en")} keys created (${rate.toFixed(0)}/s so far)`);
      }
    }
  };
  await Promise.all(Array.from({ length: BATCHES_IN_FLIGHT }, worker));
  return secrets;
}

function keyClient(port: number) {
  return connectRpc(KeyService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` }));
}

/**
 * VerifyKey for `seconds` with keys drawn uniformly from `secrets[0, n)`, over
 * bare HTTP/2 (see h2-unary.ts); answers per second, latency, and how many
 * calls answered other than VALID or failed.
 */
async function verifyLoad(port: number, rootKey: string, secrets: readonly string[], n: number, seconds: number) {
  const sessions = Array.from({ length: CONNECTIONS }, () => openSession(`http://127.0.0.1:${port}`));
  const headers = { authorization: `Bearer ${rootKey}` };
  const path = "/keyward.v1.KeyService/VerifyKey";
  const until = performance.now() + seconds * 1000;
  let answered = 0;
  const latencies: number[] = [];
  let notValid = 0;
  let failed = 0;
  const worker = async (session: (typeof sessions)[number]) => {
    while (performance.now() < until) {
      const sent = performance.now();
      try {
        const key = secrets[uniformIndex(n)] as string;
        const { code } = await unary(session, path, headers, VerifyKeyRequestSchema, { key }, VerifyKeyResponseSchema);
        answered += 1;
        latencies.push(performance.now() - sent);
        if (code !== VerifyCode.VALID) notValid += 1;
      } catch {
        failed += 1;
      }
    }
  };
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, (_, i) => worker(sessions[i % CONNECTIONS] as (typeof sessions)[number])),
  );
  for (const session of sessions) session.close();
  latencies.sort((a, b) => a - b);
  const rps = answered / ((performance.now() - started) / 1000);
  return { rps, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), notValid, failed };
}

/** What Redis spends per cached key: MEMORY USAGE averaged over a sample, and used_memory above the empty server's per key. */
async function redisPerKey(redis: ReturnType<typeof createRedisClient>, emptyUsedMemory: number) {
  let cached = 0;
  const sample: string[] = [];
  for await (const names of redis.scanIterator({ MATCH: "kw:key:*", COUNT: 10_000 })) {
    cached += names.length;
    for (const name of names) if (sample.length < MEMORY_SAMPLE) sample.push(name);
  }
  const usages = await Promise.all(sample.map((name) => redis.memoryUsage(name)));
  const present = usages.filter((usage): usage is number => typeof usage === "number");
  const memoryUsage = present.reduce((sum, usage) => sum + usage, 0) / Math.max(1, present.length);
  const used = usedMemory(await redis.info("memory"));
  return { cached, memoryUsage, usedPerKey: cached === 0 ? Number.NaN : (used - emptyUsedMemory) / cached };
}

function usedMemory(info: string): number {
  return Number(info.match(/used_memory:(\d+)/)?.[1]);
}

async function main(): Promise<void> {
  if (!Number.isInteger(KEYS) || KEYS < 1) throw new Error("BENCH_SCALE_KEYS must be a whole number ≥ 1");
  let redisServer: PrivateRedis | undefined;
  let server: Server | undefined;
  let redis: ReturnType<typeof createRedisClient> | undefined;
  const stop = () => {
    if (server) server.child.kill("SIGTERM");
    redisServer?.child.kill("SIGKILL");
  };
  process.once("SIGINT", () => {
    stop();
    process.exit(130);
  });
  try {
    redisServer = await startRedis();
    redis = createRedisClient({ url: redisServer.url });
    await redis.connect();
    const rootKey = generateRootKey();
    server = await startServer(rootKey, { REDIS_URL: redisServer.url, ...SERVER_ENV });
    const pid = server.child.pid as number;
    const emptyUsedMemory = usedMemory(await redis.info("memory"));
    const settings = Object.entries(SERVER_ENV).map(([name, value]) => `${name}=${value}`);
    console.log(`Keyward with ${KEYS.toLocaleString("en")} keys, on ${storeName()}, with a private redis-server`);
    console.log(
      `server settings from BENCH_SCALE_ENV: ${settings.length ? settings.join(" ") : "(none: the defaults)"}`,
    );
    console.log(`server RSS, empty: ${rssMiB(pid).toFixed(0)} MiB`);

    const client = keyClient(server.grpcPort);
    const importStarted = performance.now();
    const secrets = await importKeys(client, rootKey, KEYS);
    const importSeconds = (performance.now() - importStarted) / 1000;
    console.log(
      `created ${KEYS.toLocaleString("en")} keys with CreateKeys (${BATCH} a call, ${BATCHES_IN_FLIGHT} calls at a time)` +
        ` in ${importSeconds.toFixed(1)} s: ${(KEYS / importSeconds).toFixed(0)} keys/s; server RSS ${rssMiB(pid).toFixed(0)} MiB`,
    );

    console.log(
      `\nVerifyKey, keys drawn uniformly from the first N; ${SECONDS} s per row after ${WARMUP_SECONDS} s of warm-up, ${CONCURRENCY} calls in flight over ${CONNECTIONS} connections`,
    );
    console.log(
      "| distinct keys | req/s | p50 ms | p99 ms | server CPU | server CPU µs/call | load generator CPU | local | shared (Redis) | store | server RSS MiB | Redis keys cached | MEMORY USAGE B/key | used_memory B/key |",
    );
    console.log("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (const n of rowSizes(KEYS)) {
      if (WARMUP_SECONDS > 0) await verifyLoad(server.grpcPort, rootKey, secrets, n, WARMUP_SECONDS);
      const before = await cacheLookups(server);
      const [serverCpuBefore, clientCpuBefore, startedAt] = [cpuMicros(pid), process.cpuUsage(), performance.now()];
      const load = await verifyLoad(server.grpcPort, rootKey, secrets, n, SECONDS);
      const wallMicros = (performance.now() - startedAt) * 1000;
      const serverCpu = (cpuMicros(pid) - serverCpuBefore) / wallMicros;
      const clientCpuUsed = process.cpuUsage(clientCpuBefore);
      const clientCpu = (clientCpuUsed.user + clientCpuUsed.system) / wallMicros;
      const shares = layerShares(before, await cacheLookups(server));
      const perKey = await redisPerKey(redis, emptyUsedMemory);
      const percent = (share: number) => `${(share * 100).toFixed(1)} %`;
      const cores = (share: number) => share.toFixed(2);
      console.log(
        `| ${n.toLocaleString("en")} | ${load.rps.toFixed(0)} | ${load.p50.toFixed(1)} | ${load.p99.toFixed(1)} | ${cores(serverCpu)} | ${((serverCpu * 1e6) / load.rps).toFixed(0)} | ${cores(clientCpu)} | ${LAYERS.map((layer) => percent(shares[layer])).join(" | ")}` +
          ` | ${rssMiB(pid).toFixed(0)} | ${perKey.cached.toLocaleString("en")} | ${perKey.memoryUsage.toFixed(0)}` +
          ` | ${perKey.usedPerKey.toFixed(0)} |`,
      );
      if (load.notValid > 0 || load.failed > 0) {
        console.log(`  (of these calls ${load.notValid} answered other than VALID and ${load.failed} failed)`);
      }
    }
    console.log(
      "\nCPU: cores busy during the row (the server's from /proc; the load generator is this process), and the" +
        " server's CPU time per call, which follows the machine's other work far less than req/s." +
        "\nlocal / shared / store: the share of key lookups each layer answered during the row (keyward_cache_lookups_total)." +
        "\nRedis per key: MEMORY USAGE averaged over up to 1,000 cached kw:key:* names, and used_memory above the empty" +
        " server's divided by the kw:key:* names then cached (these include the absent/tombstone markers, if any).",
    );
  } finally {
    await redis?.quit().catch(() => {});
    if (server) await stopServer(server);
    redisServer?.child.kill("SIGKILL");
    removeScratch();
  }
}

await main();
