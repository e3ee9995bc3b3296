/**
 * `npm run bench:profile`: a CPU profile (node --cpu-prof) of a VerifyKey
 * cache hit with a root key on the gRPC port, under closed-loop h2load, summed
 * up as the self time of the busiest functions and of each part (Keyward,
 * each package, Node itself). BENCH_BUILD=<dir> profiles another build (a
 * directory holding its dist/), to compare before and after a change.
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { VerifyKeyRequestSchema } from "../gen/keyward/v1/key_service_pb.js";
import { generateRootKey } from "../src/composition/bootstrap.js";
import {
  createKey,
  grpcBody,
  h2load,
  removeScratch,
  requireH2load,
  scratch,
  startServer,
  stopServer,
} from "./support.js";

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 100_000);
const TOP = 25;
const KEPT = ".bench/verify-cache-hit.cpuprofile";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
  readonly children?: number[];
}

interface CpuProfile {
  readonly nodes: ProfileNode[];
  readonly samples: number[];
  readonly timeDeltas: number[];
}

async function main(): Promise<void> {
  requireH2load();
  const rootKey = generateRootKey();
  const build = process.env.BENCH_BUILD;
  const server = await startServer(
    rootKey,
    {},
    { ...(build ? { build } : {}), nodeFlags: ["--cpu-prof", `--cpu-prof-dir=${scratch}`] },
  );
  try {
    const key = await createKey(server, rootKey, { name: "bench profile" });
    const body = grpcBody(VerifyKeyRequestSchema, { key });
    const url = `http://127.0.0.1:${server.grpcPort}/keyward.v1.KeyService/VerifyKey`;
    const load = { requests: REQUESTS, clients: 16, streams: 4 };
    // Start-up and the first, unoptimised calls stay out of the profile's sum.
    h2load(url, body, rootKey, { ...load, requests: Math.ceil(REQUESTS / 5) });
    const skipMs = performance.now() - server.spawnedAt;
    const figures = h2load(url, body, rootKey, load);
    await stopServer(server);
    const file = readdirSync(scratch).find((name) => name.endsWith(".cpuprofile"));
    if (!file) throw new Error("the server wrote no profile");
    // Kept for a closer look (Chrome DevTools, Performance tab: load profile).
    mkdirSync(".bench", { recursive: true });
    copyFileSync(join(scratch, file), KEPT);
    const profile = JSON.parse(readFileSync(KEPT, "utf8")) as CpuProfile;
    console.log(`\n${build ?? "this build"}: ${REQUESTS} cache hits at ${Math.round(figures.rps)} req/s\n`);
    report(profile, skipMs);
    console.log(`\nThe whole profile: ${KEPT}`);
  } finally {
    await stopServer(server);
    removeScratch();
  }
}

/** Sums self time per function and per part, leaving out the samples of the first `skipMs`. */
function report(profile: CpuProfile, skipMs: number): void {
  const selfMs = new Map<number, number>();
  let at = 0;
  profile.samples.forEach((id, i) => {
    const delta = (profile.timeDeltas[i] ?? 0) / 1000;
    at += delta;
    if (at >= skipMs) selfMs.set(id, (selfMs.get(id) ?? 0) + delta);
  });
  console.log(`left out: the first ${Math.round(skipMs)} ms (start-up, warm-up)`);
  const byFunction = new Map<string, number>();
  const byPart = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  for (const node of profile.nodes) {
    const ms = selfMs.get(node.id) ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === "(idle)") {
      idle += ms;
      continue;
    }
    busy += ms;
    const where = `${functionName || "(anonymous)"} ${shortUrl(url)}:${lineNumber + 1}`;
    byFunction.set(where, (byFunction.get(where) ?? 0) + ms);
    byPart.set(partOf(functionName, url), (byPart.get(partOf(functionName, url)) ?? 0) + ms);
  }
  console.log(`busy ${Math.round(busy)} ms, idle ${Math.round(idle)} ms\n`);
  console.log("| part | self ms | % of busy |\n| --- | ---: | ---: |");
  for (const [part, ms] of [...byPart].sort((a, b) => b[1] - a[1]).filter(([, ms]) => ms >= busy / 200)) {
    console.log(`| ${part} | ${Math.round(ms)} | ${((100 * ms) / busy).toFixed(1)} |`);
  }
  console.log(`\n| top ${TOP} functions by self time | self ms | % of busy |\n| --- | ---: | ---: |`);
  for (const [where, ms] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
    console.log(`| ${where} | ${Math.round(ms)} | ${((100 * ms) / busy).toFixed(1)} |`);
  }
  inclusive(profile, selfMs, busy);
}

/** Which part of the process a function belongs to: Keyward's own code, a package, Node, or V8. */
/**
 * Time spent in each function and everything it called, for Keyward's own
 * functions and the libraries it calls on the hot path: what each step of the
 * chain costs, all in.
 */
function inclusive(profile: CpuProfile, selfMs: Map<number, number>, busy: number): void {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const total = new Map<string, number>();
  for (const [id, ms] of selfMs) {
    const counted = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const { functionName, url, lineNumber } = (byId.get(at) as ProfileNode).callFrame;
      const where = `${functionName || "(anonymous)"} ${shortUrl(url)}:${lineNumber + 1}`;
      if (counted.has(where)) continue;
      counted.add(where);
      total.set(where, (total.get(where) ?? 0) + ms);
    }
  }
  const ours = /^(src|gen)\/|^@bufbuild|^prom-client|^lru-cache/;
  console.log(
    `\n| top ${TOP} of Keyward and its libraries, with what they call | ms | % of busy |\n| --- | ---: | ---: |`,
  );
  const rows = [...total].filter(([where]) => ours.test(where.split(" ")[1] ?? ""));
  for (const [where, ms] of rows.sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
    console.log(`| ${where} | ${Math.round(ms)} | ${((100 * ms) / busy).toFixed(1)} |`);
  }
}

function partOf(functionName: string, url: string): string {
  if (url === "") return functionName.startsWith("(") ? functionName : "V8 builtins";
  if (url.startsWith("node:")) return `Node ${url.split("/")[1] ?? url}`;
  const inPackage = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (inPackage) return inPackage[1] as string;
  const inKeyward = url.match(/dist\/((?:src|gen)\/[^/]+)/);
  return inKeyward ? `keyward ${inKeyward[1]}` : url;
}

function shortUrl(url: string): string {
  return url.includes("node_modules/") ? url.replace(/^.*node_modules\//, "") : url.replace(/^.*dist\//, "");
}

main().catch((error: unknown) => {
  console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
