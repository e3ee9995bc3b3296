import { type Keyward, startKeyward } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import type { Clock } from "../../src/keys/clock.js";
import { createLogger } from "../../src/logger.js";

/** A Keyward started in this process on free ports, with its log lines kept for inspection. */
export interface TestKeyward extends Keyward {
  /** Every log line written so far (JSON). */
  readonly logs: string[];
}

/** Starts Keyward with the given environment on top of test defaults (loopback, port 0, debug logs, dev mode). */
export async function startTestKeyward(
  env: Record<string, string> = {},
  options: { clock?: Clock; healthRefreshMs?: number } = {},
): Promise<TestKeyward> {
  const logs: string[] = [];
  const config = loadConfig({
    KEYWARD_HOST: "127.0.0.1",
    KEYWARD_HTTP_PORT: "0",
    KEYWARD_GRPC_PORT: "0",
    KEYWARD_LOG_LEVEL: "debug",
    ...env,
  });
  const logger = createLogger(config.logLevel, { write: (line: string) => void logs.push(line) });
  const keyward = await startKeyward({ config, logger, ...options });
  return { ...keyward, logs };
}
