/**
 * `npm run bench:compare -- <dir>`: this build against another one (a
 * directory holding its dist/, say a checkout of main after `npm run build`),
 * in alternating runs in the same minutes, so that a busy or drifting machine
 * weighs on both alike. For a VerifyKey cache hit with a root key on the gRPC
 * port: × the empty-RPC ceiling (closed loop), and p50/p99/p99.9 at fixed
 * rates (open loop). Prints each build's medians and this build's figure as a
 * fraction of the other's; BENCH_TRACE_GC=1 adds the GC pauses of each
 * build during its open-loop runs. Never part of the tests.
 */
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
  median,
  removeScratch,
  requireH2load,
  type Server,
  startServer,
  stopServer,
  storeName,
} from "./support.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 10_000);
const RATES = [1_000, 5_000];
const FIXED_SECONDS = Number(process.env.BENCH_FIXED_SECONDS ?? 5);
const TRACE_GC = process.env.BENCH_TRACE_GC === "1";
const closedLoop = (requests: number) => ({ requests, clients: 16, streams: 4 });

interface Build {
  readonly name: string;
  readonly server: Server;
  readonly verify: { url: string; body: string };
  readonly ceiling: { url: string; body: string };
  readonly ratios: number[];
  /** × the ceiling by the server's CPU time per request: the ceiling's ÷ the cache hit's. */
  readonly cpuRatios: number[];
  readonly openLoop: Map<number, { figures: Figures[]; windows: { from: number; to: number }[] }>;
}

async function main(): Promise<void> {
  const other = process.argv[2];
  if (!other) {
    console.error("usage: npm run bench:compare -- <directory of another build, holding its dist/>");
    process.exit(2);
  }
  requireH2load();
  const rootKey = generateRootKey();
  const flags = { nodeFlags: TRACE_GC ? ["--trace-gc"] : [] };
  const builds: Build[] = [];
  try {
    for (const [name, dir] of [
      ["other", other],
      ["this", "."],
    ] as const) {
      const server = await startServer(rootKey, {}, { ...flags, build: dir });
      const key = await createKey(server, rootKey, { name: `bench compare ${name}` });
      const base = `http://127.0.0.1:${server.grpcPort}`;
      builds.push({
        name: name === "other" ? `other (${dir})` : "this build",
        server,
        verify: { url: `${base}/keyward.v1.KeyService/VerifyKey`, body: grpcBody(VerifyKeyRequestSchema, { key }) },
        ceiling: { url: `${base}/grpc.health.v1.Health/Check`, body: grpcBody(HealthCheckRequestSchema, {}) },
        ratios: [],
        cpuRatios: [],
        openLoop: new Map(RATES.map((rate) => [rate, { figures: [], windows: [] }])),
      });
    }
    for (const { verify, ceiling } of builds) {
      h2load(ceiling.url, ceiling.body, rootKey, closedLoop(REQUESTS / 5));
      h2load(verify.url, verify.body, rootKey, closedLoop(REQUESTS / 5));
    }
    for (let round = 0; round < ROUNDS; round++) {
      // Each round starts with the build the last one ended with, so neither always goes first.
      const order = round % 2 === 0 ? builds : [...builds].reverse();
      for (const build of order) {
        const base = h2load(build.ceiling.url, build.ceiling.body, rootKey, closedLoop(REQUESTS), build.server);
        const figures = h2load(build.verify.url, build.verify.body, rootKey, closedLoop(REQUESTS), build.server);
        build.ratios.push(figures.rps / base.rps);
        build.cpuRatios.push((base.cpuUsPerRequest as number) / (figures.cpuUsPerRequest as number));
      }
      for (const rate of RATES) {
        for (const build of order) {
          const runs = build.openLoop.get(rate);
          const from = performance.now() - build.server.spawnedAt;
          runs?.figures.push(h2load(build.verify.url, build.verify.body, rootKey, fixedRate(rate, FIXED_SECONDS)));
          runs?.windows.push({ from, to: performance.now() - build.server.spawnedAt });
        }
      }
    }
    await Promise.all(builds.map(({ server }) => stopServer(server)));
    report(builds);
  } finally {
    await Promise.all(builds.map(({ server }) => stopServer(server)));
    removeScratch();
  }
}

function report(builds: readonly Build[]): void {
  const [other, current] = builds as [Build, Build];
  console.log(
    `\nVerifyKey cache hit with a root key, gRPC port; keys in ${storeName()}; ${ROUNDS} alternating rounds; ` +
      `medians (this build ÷ the other in the last column)\n`,
  );
  const gcHeader = TRACE_GC ? " | GC pauses | GC ms (sum) | longest GC ms" : "";
  console.log(`| measure | ${other.name} | ${current.name} | this ÷ other |\n| --- | ---: | ---: | ---: |`);
  const row = (measure: string, a: number, b: number, digits = 2) =>
    console.log(`| ${measure} | ${a.toFixed(digits)} | ${b.toFixed(digits)} | ${(b / a).toFixed(2)} |`);
  row("× the empty-RPC ceiling, req/s (closed loop)", median(other.ratios), median(current.ratios));
  row("× the empty-RPC ceiling, server CPU per request", median(other.cpuRatios), median(current.cpuRatios));
  console.log(`\nper round, × ceiling by req/s: other ${fmt(other.ratios)}; this ${fmt(current.ratios)}`);
  console.log(`per round, × ceiling by CPU: other ${fmt(other.cpuRatios)}; this ${fmt(current.cpuRatios)}\n`);
  console.log(`| build | rate/s | req/s | p50 ms | p99 ms | p99.9 ms${gcHeader} |`);
  console.log(`| --- | ---: | ---: | ---: | ---: | ---:${TRACE_GC ? " | ---: | ---: | ---:" : ""} |`);
  for (const rate of RATES) {
    for (const build of builds) {
      const runs = build.openLoop.get(rate);
      if (!runs) continue;
      const of = (pick: (figures: Figures) => number) => median(runs.figures.map(pick)).toFixed(2);
      const gc = runs.windows.map(({ from, to }) => gcPauses(build.server.output(), from, to));
      const gcCells = TRACE_GC
        ? ` | ${median(gc.map((g) => g.count))} | ${median(gc.map((g) => g.totalMs)).toFixed(1)} | ${median(gc.map((g) => g.maxMs)).toFixed(2)}`
        : "";
      console.log(
        `| ${build.name} | ${rate} | ${Math.round(median(runs.figures.map((f) => f.rps)))} | ${of((f) => f.p50)} | ` +
          `${of((f) => f.p99)} | ${of((f) => f.p999)}${gcCells} |`,
      );
    }
    const p99 = (build: Build) => median(build.openLoop.get(rate)?.figures.map((f) => f.p99) ?? []);
    console.log(
      `| this ÷ other, p99 | ${rate} | | | ${(p99(current) / p99(other)).toFixed(2)} | |${TRACE_GC ? " | | |" : ""}`,
    );
  }
}

function fmt(values: readonly number[]): string {
  return values.map((value) => value.toFixed(2)).join(", ");
}

main().catch((error: unknown) => {
  console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
