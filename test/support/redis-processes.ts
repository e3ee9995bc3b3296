import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { waitForPort } from "./redis.js";

/**
 * redis-server processes a test starts for itself: on private ports, in a
 * directory of their own, killed when the test stops them and, failing that,
 * when the test process exits however it exits.
 */
export class RedisProcesses {
  readonly dir = mkdtempSync(join(tmpdir(), "keyward-redis-"));
  private readonly running = new Map<number, ChildProcess>();
  private readonly argsOf = new Map<number, string[]>();
  private readonly killAll = () => {
    for (const child of this.running.values()) child.kill("SIGKILL");
  };

  constructor() {
    process.once("exit", this.killAll);
  }

  /** Starts redis-server (or a sentinel, with `--sentinel`) on `port` and waits until it listens. */
  async start(port: number, args: string[], config?: string): Promise<void> {
    const file = join(this.dir, `${port}.conf`);
    writeFileSync(file, config ?? "");
    this.argsOf.set(port, args);
    await this.run(port);
  }

  /** Starts the server on `port` again as it was first started (with what it wrote to its directory since). */
  restart(port: number): Promise<void> {
    return this.run(port);
  }

  private async run(port: number): Promise<void> {
    const file = join(this.dir, `${port}.conf`);
    const args = this.argsOf.get(port) ?? [];
    const common = [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      this.dir,
    ];
    const child = spawn("redis-server", [file, ...common, ...args], { stdio: "ignore" });
    this.running.set(port, child);
    await waitForPort(port, 200);
  }

  /** Kills the server on `port` at once, as a crash would (whatever it has not replicated is lost). */
  async kill(port: number): Promise<void> {
    const child = this.running.get(port);
    this.running.delete(port);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise((resolve) => {
      child.once("exit", resolve);
      child.kill("SIGKILL");
    });
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.running.keys()].map((port) => this.kill(port)));
    process.removeListener("exit", this.killAll);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const execFileAsync = promisify(execFile);

/** Runs redis-cli against 127.0.0.1:`port` and answers its output. */
export async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args], {
    timeout: 30_000,
  });
  return stdout;
}

/** Polls until `check` holds, or throws naming `what` after `timeoutMs`. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * `count` ports below 55000 that are free, each with its port + 10000 free
 * too (a cluster node's bus port). Random, so that suites running at once
 * rarely pick the same; a port taken meanwhile fails the start loudly.
 */
export async function freePortsBelow55000(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = 20_000 + Math.floor(Math.random() * 35_000);
    if (ports.includes(port) || ports.includes(port - 10_000) || ports.includes(port + 10_000)) continue;
    if ((await isFree(port)) && (await isFree(port + 10_000))) ports.push(port);
  }
  return ports;
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}
