/**
 * `npm run bench:create`: CreateKey one by one, 128 at a time (h2load, 4
 * connections × 32 streams), on a dev-mode server (in-memory store) of this
 * build and of a baseline build (BENCH_BASELINE_REF, default the commit
 * before the bulk work), in alternating rounds so that both see the same
 * machine and the same number of stored keys. Prints keys/s per round and
 * the ratio. Never part of the tests; it fails only when it cannot run.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { CreateKeyRequestSchema } from "../gen/keyward/v1/key_service_pb.js";
import { generateRootKey } from "../src/composition/bootstrap.js";

const BASELINE_REF = process.env.BENCH_BASELINE_REF ?? "e21b7f1";
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const PER_ROUND = Number(process.env.BENCH_CREATE_REQUESTS ?? 5_000);
const scratch = mkdtempSync(join(tmpdir(), "keyward-bench-create-"));

/** Builds the baseline ref in a scratch directory (git archive + tsc), sharing this checkout's node_modules. */
function buildBaseline(): string {
  const dir = join(scratch, "baseline");
  execFileSync("sh", ["-c", `mkdir -p ${dir} && git archive ${BASELINE_REF} | tar -x -C ${dir}`]);
  symlinkSync(resolve("node_modules"), join(dir, "node_modules"));
  execFileSync("npx", ["tsc", "-b", "tsconfig.build.json"], { cwd: dir, stdio: "inherit" });
  return dir;
}

async function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

async function startServer(cwd: string, rootKey: string): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, KEYWARD_LOG_LEVEL: "info", KEYWARD_ROOT_KEY: rootKey };
  for (const name of ["MONGODB_URI", "REDIS_URL"]) delete env[name];
  const child = spawn("node", ["dist/src/main.js"], {
    cwd,
    env: { ...env, KEYWARD_GRPC_PORT: String(port), KEYWARD_HTTP_PORT: String(await freePort()) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  for (let waited = 0; !output.includes('"msg":"keyward started"'); waited += 50) {
    if (child.exitCode !== null || waited > 60_000) throw new Error(`keyward did not start:\n${output}`);
    await new Promise((done) => setTimeout(done, 50));
  }
  return { port, child };
}

function createKeysPerSecond(port: number, body: string, rootKey: string): number {
  const output = execFileSync(
    "h2load",
    [
      `-n${PER_ROUND}`,
      "-c4",
      "-m32",
      "-t1",
      `-d${body}`,
      "-Hcontent-type: application/grpc",
      "-Hte: trailers",
      `-Hauthorization: Bearer ${rootKey}`,
      `http://127.0.0.1:${port}/keyward.v1.KeyService/CreateKey`,
    ],
    { encoding: "utf8" },
  );
  const succeeded = Number(output.match(/(\d+) succeeded/)?.[1] ?? 0);
  if (succeeded !== PER_ROUND) throw new Error(`h2load: only ${succeeded} of ${PER_ROUND} succeeded\n${output}`);
  return Number(output.match(/finished in [\d.]+m?s, ([\d.]+) req\/s/)?.[1]);
}

async function main(): Promise<void> {
  const baselineDir = buildBaseline();
  const rootKey = generateRootKey();
  const message = toBinary(CreateKeyRequestSchema, create(CreateKeyRequestSchema, { name: "bench" }));
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  const body = join(scratch, "create.bin");
  writeFileSync(body, frame);
  const current = await startServer(process.cwd(), rootKey);
  const baseline = await startServer(baselineDir, rootKey);
  try {
    console.log(`CreateKey, 128 concurrent callers, dev mode; ${PER_ROUND} keys per round, ${ROUNDS} rounds`);
    console.log(`round  stored keys  this build  baseline (${BASELINE_REF})  ratio`);
    const ratios: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const now = createKeysPerSecond(current.port, body, rootKey);
      const before = createKeysPerSecond(baseline.port, body, rootKey);
      ratios.push(now / before);
      const stored = String(round * PER_ROUND).padStart(11);
      console.log(
        `${String(round).padStart(5)}  ${stored}  ${now.toFixed(0).padStart(8)}/s  ${before.toFixed(0).padStart(13)}/s  ${(now / before).toFixed(2)}×`,
      );
    }
    const median = [...ratios].sort((a, b) => a - b)[Math.floor(ratios.length / 2)] as number;
    console.log(`median ratio: ${median.toFixed(2)}× (the machine's load moves both columns alike)`);
  } finally {
    current.child.kill("SIGTERM");
    baseline.child.kill("SIGTERM");
    rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
