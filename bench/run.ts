/**
 * `npm run bench`: VerifyKey under load from h2load (Debian's nghttp2-client),
 * a neutral HTTP/2 load generator, on both ports, and Envoy's Check and
 * ShouldRateLimit on the gRPC port, against the ceiling of an empty RPC
 * (grpc.health.v1.Health/Check) on the same grpc-js server measured in the
 * same run. Prints requests/s, p50, p99 and the ratio to the ceiling.
 * Never part of the tests; it fails only when it cannot run at all.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, type DescMessage, fromJsonString, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { CheckRequestSchema } from "../gen/envoy/service/auth/v3/external_auth_pb.js";
import { RateLimitRequestSchema } from "../gen/envoy/service/ratelimit/v3/rls_pb.js";
import { HealthCheckRequestSchema } from "../gen/grpc/health/v1/health_pb.js";
import { VerifyCode } from "../gen/keyward/v1/key_pb.js";
import { type CreateKeyRequestSchema, KeyService, VerifyKeyRequestSchema } from "../gen/keyward/v1/key_service_pb.js";
import { generateRootKey } from "../src/composition/bootstrap.js";

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 10_000);
const WARMUP = Math.ceil(REQUESTS / 5);
const CLIENTS = 16;
const STREAMS = 4;
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const scratch = mkdtempSync(join(tmpdir(), "keyward-bench-"));

interface Server {
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly child: ChildProcess;
}

/** One row pair of the table: an RPC with its request body, on a server, on some of its ports. */
interface Scenario {
  readonly name: string;
  readonly path: string;
  readonly body: string;
  readonly target: Server;
  readonly ports: readonly ("gRPC" | "HTTP")[];
}

interface Figures {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
}

function requireH2load(): void {
  if (spawnSync("h2load", ["--version"]).error) {
    console.error("bench: h2load is missing. Install it with: apt-get install nghttp2-client");
    process.exit(1);
  }
}

/** Starts dist/src/main.js (dev mode, with Redis) on free ports and waits until it listens. */
async function startServer(rootKey: string, env: Record<string, string>): Promise<Server> {
  const [grpcPort, httpPort] = [await freePort(), await freePort()];
  const child = spawn("node", ["dist/src/main.js"], {
    env: {
      ...process.env,
      KEYWARD_ROOT_KEY: rootKey,
      KEYWARD_GRPC_PORT: String(grpcPort),
      KEYWARD_HTTP_PORT: String(httpPort),
      REDIS_URL,
      // As in production: every value in Redis signed, under one secret for the deployment.
      KEYWARD_REDIS_SECRET: "the benchmark deployment's redis secret, 32+ chars",
      KEYWARD_LOG_LEVEL: "info",
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
  return { grpcPort, httpPort, child };
}

/** Creates a key on a server and checks that it verifies there, so that no row measures refusals. */
async function createKey(server: Server, rootKey: string, init: MessageInitShape<typeof CreateKeyRequestSchema>) {
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

/** The CheckRequest Envoy sends for a plain GET (the tests' fixture), carrying `key`. */
function envoyCheckRequest(key: string) {
  const json = readFileSync("test/fixtures/envoy/check-request-http1.json", "utf8").replace("{{KEY}}", key);
  return fromJsonString(CheckRequestSchema, json);
}

/** A gRPC request body: the 5-byte length prefix, then the message. */
function grpcBody<T extends DescMessage>(schema: T, init: MessageInitShape<T>): string {
  const message = toBinary(schema, create(schema, init));
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  const path = join(scratch, `body-${Math.random().toString(36).slice(2)}.bin`);
  writeFileSync(path, frame);
  return path;
}

/** One h2load run; latencies come from its per-request log. */
let runs = 0;

function h2load(url: string, body: string, rootKey: string, requests: number): Figures {
  runs += 1;
  const log = join(scratch, `requests-${runs}.log`);
  const output = execFileSync(
    "h2load",
    [
      `-n${requests}`,
      `-c${CLIENTS}`,
      `-m${STREAMS}`,
      "-t1",
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
  return { rps, p50: at(0.5), p99: at(0.99) };
}

const ROUNDS = 5;

/**
 * A scenario and the ceiling, measured back to back in short runs, ROUNDS
 * times; the row keeps the round with the median ratio. On a shared virtual
 * machine the speed of the CPU drifts by tens of percent from one minute to
 * the next; pairing short runs keeps that drift out of the ratio.
 */
function measure(url: string, body: string, ceiling: { url: string; body: string }, rootKey: string) {
  h2load(url, body, rootKey, WARMUP);
  const rounds = Array.from({ length: ROUNDS }, () => {
    const base = h2load(ceiling.url, ceiling.body, rootKey, REQUESTS);
    const figures = h2load(url, body, rootKey, REQUESTS);
    return { figures, base, ratio: figures.rps / base.rps };
  }).sort((a, b) => a.ratio - b.ratio);
  return rounds[Math.floor(ROUNDS / 2)] as { figures: Figures; base: Figures; ratio: number };
}

async function main(): Promise<void> {
  requireH2load();
  const rootKey = generateRootKey();
  const server = await startServer(rootKey, {});
  // A second server without the in-process cache, so that every lookup is answered by Redis;
  // a third as a loopback sidecar would run, where VerifyKey needs no root key.
  const redisOnly = await startServer(rootKey, { KEYWARD_CACHE_MAX_ENTRIES: "0" });
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
      // Dev mode keeps keys in each process's memory: the other servers get keys of their own.
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
    for (const target of [server, redisOnly, sidecar]) h2load(ceilingOf(target).url, emptyRpc, rootKey, WARMUP);
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
    // BENCH_ONLY=credits measures only the scenarios whose name contains it.
    const only = process.env.BENCH_ONLY;
    for (const { name, path, body, target, ports } of scenarios.filter(({ name }) => !only || name.includes(only))) {
      const ceiling = ceilingOf(target);
      for (const port of ports) {
        const url = `http://127.0.0.1:${port === "gRPC" ? target.grpcPort : target.httpPort}/${path}`;
        rows.push([name, port, measure(url, body, ceiling, rootKey)]);
      }
    }
    console.log(
      `\nh2load ${CLIENTS} connections × ${STREAMS} streams, ${REQUESTS} requests per measurement, ` +
        `median of ${ROUNDS} rounds, each paired with the ceiling; Node ${process.version}\n`,
    );
    console.log("| scenario | port | req/s | p50 ms | p99 ms | ceiling req/s | × ceiling |");
    console.log("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
    for (const [name, port, { figures, base, ratio }] of rows) {
      console.log(
        `| ${name} | ${port} | ${Math.round(figures.rps)} | ${figures.p50.toFixed(2)} | ${figures.p99.toFixed(2)} | ${Math.round(base.rps)} | ${ratio.toFixed(2)} |`,
      );
    }
    console.log(
      "\nThe ceiling is an empty RPC, grpc.health.v1.Health/Check, on the same grpc-js server as the gRPC port. " +
        "The HTTP port is connect-node, speaking gRPC over h2c.",
    );
  } finally {
    for (const { child } of [server, redisOnly, sidecar]) child.kill("SIGTERM");
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
