/**
 * `npm run bench`: VerifyKey under load from h2load (Debian's nghttp2-client),
 * a neutral HTTP/2 load generator, on both ports, and Envoy's Check and
 * ShouldRateLimit on the gRPC port, against the ceiling of an empty RPC
 * (grpc.health.v1.Health/Check) on the same grpc-js server measured in the
 * same run. Prints requests/s, p50, p99 and the ratio to the ceiling; then
 * open-loop rows (fixed rates, h2load --rps) of a cache hit and of the empty
 * RPC, with p50/p99/p99.9 (BENCH_TRACE_GC=1 adds the GC pauses of each run).
 * With MONGODB_URI set, keys live in that MongoDB, and the output says so.
 * Never part of the tests; it fails only when it cannot run at all.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fromJsonString } from "@bufbuild/protobuf";
import { CheckRequestSchema } from "../gen/envoy/service/auth/v3/external_auth_pb.js";
import { RateLimitRequestSchema } from "../gen/envoy/service/ratelimit/v3/rls_pb.js";
import { HealthCheckRequestSchema } from "../gen/grpc/health/v1/health_pb.js";
import { VerifyKeyRequestSchema } from "../gen/keyward/v1/key_service_pb.js";
import { generateRootKey } from "../src/composition/bootstrap.js";
import {
  createKey,
  type Figures,
  fixedRate,
  gcPauses,
  grpcBody,
  h2load,
  MONGODB_URI,
  median,
  REDIS_URL,
  removeScratch,
  requireH2load,
  type Server,
  scratch,
  startServer,
  stopServer,
  storeName,
} from "./support.js";

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 10_000);
const WARMUP = Math.ceil(REQUESTS / 5);
const CLIENTS = 16;
const STREAMS = 4;
const closedLoop = (requests: number) => ({ requests, clients: CLIENTS, streams: STREAMS });

/** One row pair of the table: an RPC with its request body, on a server, on some of its ports. */
interface Scenario {
  readonly name: string;
  readonly path: string;
  readonly body: string;
  readonly target: Server;
  readonly ports: readonly ("gRPC" | "HTTP")[];
}

/** The CheckRequest Envoy sends for a plain GET (the tests' fixture), carrying `key`. */
function envoyCheckRequest(key: string) {
  const json = readFileSync("test/fixtures/envoy/check-request-http1.json", "utf8").replace("{{KEY}}", key);
  return fromJsonString(CheckRequestSchema, json);
}

const ROUNDS = 5;

/**
 * A scenario and the ceiling, measured back to back in short runs, ROUNDS
 * times; the row keeps the round with the median ratio. On a shared virtual
 * machine the speed of the CPU drifts by tens of percent from one minute to
 * the next; pairing short runs keeps that drift out of the ratio.
 */
function measure(url: string, body: string, ceiling: { url: string; body: string }, rootKey: string, server: Server) {
  h2load(url, body, rootKey, closedLoop(WARMUP));
  const rounds = Array.from({ length: ROUNDS }, () => {
    const base = h2load(ceiling.url, ceiling.body, rootKey, closedLoop(REQUESTS), server);
    const figures = h2load(url, body, rootKey, closedLoop(REQUESTS), server);
    const cpuRatio = (base.cpuUsPerRequest as number) / (figures.cpuUsPerRequest as number);
    return { figures, base, ratio: figures.rps / base.rps, cpuRatio };
  });
  const middle = <T>(sorted: T[]) => sorted[Math.floor(ROUNDS / 2)] as T;
  const cpuRatio = middle(rounds.map((round) => round.cpuRatio).sort((a, b) => a - b));
  return { ...middle(rounds.sort((a, b) => a.ratio - b.ratio)), cpuRatio };
}

const FIXED_RATES = [1_000, 5_000];
const FIXED_SECONDS = Number(process.env.BENCH_FIXED_SECONDS ?? 5);
const FIXED_ROUNDS = 3;
/** BENCH_TRACE_GC=1: the cache-hit server runs with --trace-gc, and the fixed-rate rows count its GC pauses. */
const TRACE_GC = process.env.BENCH_TRACE_GC === "1";

interface FixedRateRow {
  readonly rate: number;
  readonly rpc: string;
  readonly figures: Figures;
  /** When the VerifyKey runs went on, in ms since the server was spawned: where to count its GC pauses. */
  readonly windows?: readonly { from: number; to: number }[];
}

type GcPauses = ReturnType<typeof gcPauses>;

/**
 * Open-loop latency: a cache hit and the empty RPC at each fixed rate, in
 * alternating runs on the same server, FIXED_ROUNDS times; each figure is the
 * median over the rounds. The empty RPC's tail is what the server, Node,
 * grpc-js and h2load (on the same two cores) cost on their own.
 */
function fixedRateRows(
  server: Server,
  verify: { url: string; body: string },
  ceiling: { url: string; body: string },
  rootKey: string,
): FixedRateRow[] {
  const rows: FixedRateRow[] = [];
  for (const rate of FIXED_RATES) {
    const load = fixedRate(rate, FIXED_SECONDS);
    h2load(verify.url, verify.body, rootKey, { ...load, requests: Math.ceil(load.requests / 5) });
    const runs = { ceiling: [] as Figures[], verify: [] as Figures[], windows: [] as { from: number; to: number }[] };
    for (let round = 0; round < FIXED_ROUNDS; round++) {
      runs.ceiling.push(h2load(ceiling.url, ceiling.body, rootKey, load));
      const from = performance.now() - server.spawnedAt;
      runs.verify.push(h2load(verify.url, verify.body, rootKey, load));
      runs.windows.push({ from, to: performance.now() - server.spawnedAt });
    }
    rows.push({ rate, rpc: "empty RPC (ceiling)", figures: medianFigures(runs.ceiling) });
    rows.push({ rate, rpc: "VerifyKey, cache hit", figures: medianFigures(runs.verify), windows: runs.windows });
  }
  return rows;
}

function medianFigures(runs: readonly Figures[]): Figures {
  const of = (pick: (figures: Figures) => number) => median(runs.map(pick));
  return {
    rps: of((f) => f.rps),
    p50: of((f) => f.p50),
    p99: of((f) => f.p99),
    p999: of((f) => f.p999),
    max: of((f) => f.max),
  };
}

function medianGc(runs: readonly GcPauses[]): GcPauses {
  return {
    count: median(runs.map((r) => r.count)),
    totalMs: median(runs.map((r) => r.totalMs)),
    maxMs: median(runs.map((r) => r.maxMs)),
  };
}

/** Prints the open-loop rows; with BENCH_TRACE_GC=1, the GC pauses of the stopped server in each VerifyKey run. */
function printFixedRate(rows: readonly FixedRateRow[], gcOutput: string): void {
  console.log(
    `\nOpen loop: h2load --rps, the rate spread over its connections (up to 100 streams each), ` +
      `${FIXED_SECONDS} s per run, median of ${FIXED_ROUNDS} runs alternating with the empty RPC; gRPC port, root key\n`,
  );
  const gcColumns = TRACE_GC ? " GC pauses | GC ms (sum) | longest GC ms |" : "";
  console.log(`| rate/s | RPC | req/s | p50 ms | p99 ms | p99.9 ms | max ms | p99 × the empty RPC's |${gcColumns}`);
  console.log(`| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |${TRACE_GC ? " ---: | ---: | ---: |" : ""}`);
  for (const { rate, rpc, figures, windows } of rows) {
    const gc = TRACE_GC && windows ? medianGc(windows.map(({ from, to }) => gcPauses(gcOutput, from, to))) : undefined;
    const base = rows.find((row) => row.rate === rate)?.figures ?? figures;
    const gcCells = gc
      ? ` ${gc.count} | ${gc.totalMs.toFixed(1)} | ${gc.maxMs.toFixed(2)} |`
      : TRACE_GC
        ? " | | |"
        : "";
    console.log(
      `| ${rate} | ${rpc} | ${Math.round(figures.rps)} | ${figures.p50.toFixed(2)} | ${figures.p99.toFixed(2)} | ` +
        `${figures.p999.toFixed(2)} | ${figures.max.toFixed(1)} | ${(figures.p99 / base.p99).toFixed(2)} |${gcCells}`,
    );
  }
}

async function main(): Promise<void> {
  requireH2load();
  const rootKey = generateRootKey();
  const server = await startServer(rootKey, {}, TRACE_GC ? { nodeFlags: ["--trace-gc"] } : {});
  // A second server without the in-process cache, so that every lookup is answered by Redis;
  // a third as a loopback sidecar would run, where VerifyKey needs no root key.
  const redisOnly = await startServer(rootKey, { KEYWARD_CACHE_MAX_BYTES: "0" });
  // It also answers Envoy's rate-limit service, with one rule no run reaches.
  const ratelimitRules = join(scratch, "ratelimit.yaml");
  writeFileSync(
    ratelimitRules,
    "domain: bench\ndescriptors:\n  - key: remote_address\n    rate_limit: {unit: second, requests_per_unit: 1000000000}\n",
  );
  const sidecar = await startServer(rootKey, {
    KEYWARD_VERIFY_AUTH: "none",
    KEYWARD_VERIFY_KEYSPACES: "default",
    KEYWARD_RATELIMIT_CONFIG: ratelimitRules,
  });
  try {
    const keys = {
      plain: await createKey(server, rootKey, { name: "bench" }),
      limited: await createKey(server, rootKey, {
        name: "bench limited",
        ratelimits: [{ name: "requests", limit: 1_000_000_000n, duration: { seconds: 1n } }],
      }),
      credits: await createKey(server, rootKey, { name: "bench credits", remaining: 1_000_000_000_000n }),
      // Dev mode keeps keys in each process's memory: the other servers get keys of their own
      // (with MONGODB_URI they share the store, and each key still works on every server).
      sidecar: await createKey(sidecar, rootKey, { name: "bench sidecar" }),
      redisOnly: await createKey(redisOnly, rootKey, { name: "bench redis" }),
    };
    const verify = (key: string) => grpcBody(VerifyKeyRequestSchema, { key });
    const verifyPath = "keyward.v1.KeyService/VerifyKey";
    const emptyRpc = grpcBody(HealthCheckRequestSchema, {});
    // The ceiling of a row: the empty RPC on the same grpc-js server the row measures.
    const ceilingOf = (target: Server) => ({
      url: `http://127.0.0.1:${target.grpcPort}/grpc.health.v1.Health/Check`,
      body: emptyRpc,
    });
    for (const target of [server, redisOnly, sidecar]) {
      h2load(ceilingOf(target).url, emptyRpc, rootKey, closedLoop(WARMUP));
    }
    // VerifyKey rows are measured on both ports.
    const verifyRow = (name: string, key: string, target: Server): Scenario => ({
      name,
      path: verifyPath,
      body: verify(key),
      target,
      ports: ["gRPC", "HTTP"],
    });
    const scenarios: Scenario[] = [
      verifyRow("cache hit", keys.plain, server),
      verifyRow("cache hit, KEYWARD_VERIFY_AUTH=none", keys.sidecar, sidecar),
      verifyRow("cache hit, one rate limit", keys.limited, server),
      verifyRow("cache miss, served by Redis", keys.redisOnly, redisOnly),
      verifyRow("key with credits", keys.credits, server),
      // Envoy's services live on the gRPC port only; measured as a sidecar behind Envoy runs.
      {
        name: "Envoy ext_authz Check, cache hit, KEYWARD_VERIFY_AUTH=none",
        path: "envoy.service.auth.v3.Authorization/Check",
        body: grpcBody(CheckRequestSchema, envoyCheckRequest(keys.sidecar)),
        target: sidecar,
        ports: ["gRPC"],
      },
      {
        name: "Envoy ShouldRateLimit, one descriptor",
        path: "envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit",
        body: grpcBody(RateLimitRequestSchema, {
          domain: "bench",
          descriptors: [{ entries: [{ key: "remote_address", value: "10.0.0.1" }] }],
          hitsAddend: 1,
        }),
        target: sidecar,
        ports: ["gRPC"],
      },
    ];
    const rows: [string, string, ReturnType<typeof measure>][] = [];
    // BENCH_ONLY=credits measures only the scenarios whose name contains it ("open loop": the fixed-rate rows).
    const only = process.env.BENCH_ONLY;
    const openLoop =
      !only || "open loop".includes(only)
        ? fixedRateRows(
            server,
            { url: `http://127.0.0.1:${server.grpcPort}/${verifyPath}`, body: verify(keys.plain) },
            ceilingOf(server),
            rootKey,
          )
        : [];
    for (const { name, path, body, target, ports } of scenarios.filter(({ name }) => !only || name.includes(only))) {
      const ceiling = ceilingOf(target);
      for (const port of ports) {
        const url = `http://127.0.0.1:${port === "gRPC" ? target.grpcPort : target.httpPort}/${path}`;
        rows.push([name, port, measure(url, body, ceiling, rootKey, target)]);
      }
    }
    console.log(`\nKeys in ${storeName()}; Redis at ${REDIS_URL}; Node ${process.version}`);
    console.log(
      `\nClosed loop: h2load ${CLIENTS} connections × ${STREAMS} streams, ${REQUESTS} requests per measurement, ` +
        `median of ${ROUNDS} rounds, each paired with the ceiling\n`,
    );
    console.log("| scenario | port | req/s | p50 ms | p99 ms | ceiling req/s | × ceiling | × ceiling, CPU |");
    console.log("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (const [name, port, { figures, base, ratio, cpuRatio }] of rows) {
      console.log(
        `| ${name} | ${port} | ${Math.round(figures.rps)} | ${figures.p50.toFixed(2)} | ${figures.p99.toFixed(2)} | ` +
          `${Math.round(base.rps)} | ${ratio.toFixed(2)} | ${cpuRatio.toFixed(2)} |`,
      );
    }
    console.log(
      "\nThe ceiling is an empty RPC, grpc.health.v1.Health/Check, on the same grpc-js server as the gRPC port. " +
        "The HTTP port is connect-node, speaking gRPC over h2c. × ceiling, CPU: the server's CPU time per " +
        "empty RPC ÷ per request of the row (each the median of the rounds), which a busy machine moves far less.",
    );
    if (!MONGODB_URI)
      console.log("Every row ran on the in-memory store (dev mode); set MONGODB_URI to run on MongoDB.");
    // --trace-gc lines reach the pipe when the server exits.
    await stopServer(server);
    if (openLoop.length > 0) printFixedRate(openLoop, server.output());
  } finally {
    await Promise.all([server, redisOnly, sidecar].map(stopServer));
    removeScratch();
  }
}

main().catch((error: unknown) => {
  console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
