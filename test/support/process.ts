import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { freePort } from "./redis.js";

export const projectRoot = join(import.meta.dirname, "../..");

/** Keyward running as a child process (its own process group), with everything it printed. */
export interface KeywardProcess {
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly child: ChildProcess;
  output(): string;
  /** Sends the signal to the whole process group and resolves with the exit code of `child`. */
  signal(signal: NodeJS.Signals): Promise<number | null>;
}

/** Starts `command` (e.g. `npm start`) with free ports and waits for the "keyward started" log line. */
export async function startKeywardProcess(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<KeywardProcess> {
  const [grpcPort, httpPort] = [await freePort(), await freePort()];
  const child = spawn(command, args, {
    cwd: projectRoot,
    detached: true,
    env: { ...process.env, KEYWARD_GRPC_PORT: String(grpcPort), KEYWARD_HTTP_PORT: String(httpPort), ...env },
  });
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  await new Promise<void>((resolve, reject) => {
    const poll = setInterval(() => {
      if (output.includes('"msg":"keyward started"')) {
        clearInterval(poll);
        resolve();
      } else if (child.exitCode !== null || Date.now() > deadline) {
        clearInterval(poll);
        if (child.pid && child.exitCode === null) process.kill(-child.pid, "SIGKILL");
        reject(new Error(`keyward did not start (exit code ${child.exitCode}):\n${output}`));
      }
    }, 50);
  });
  return {
    grpcPort,
    httpPort,
    child,
    output: () => output,
    signal: async (signal) => {
      if (child.exitCode === null && child.pid) process.kill(-child.pid, signal);
      return exited;
    },
  };
}
