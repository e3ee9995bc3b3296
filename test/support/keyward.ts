import { generateRootKey } from "../../src/composition/bootstrap.js";
import { loadConfig } from "../../src/composition/config.js";
import { type Keyward, startKeyward } from "../../src/composition/start-keyward.js";
import type { Clock } from "../../src/keys/clock.js";
import { createLogger } from "../../src/observability/logger.js";

/** What every test Keyward signs its Redis values with, as replicas of one deployment would. */
export const TEST_REDIS_SECRET = "the test deployment's redis secret, 32+ characters";

/** A Keyward started in this process on free ports, with its log lines kept for inspection. */
export interface TestKeyward extends Keyward {
  /** Every log line written so far (JSON). */
  readonly logs: string[];
  /** The bootstrap root key (KEYWARD_ROOT_KEY), allowed everything. */
  readonly rootKey: string;
}

/** Starts Keyward with the given environment on top of test defaults (loopback, port 0, debug logs, dev mode). */
export async function startTestKeyward(
  env: Record<string, string> = {},
  options: { clock?: Clock; healthRefreshMs?: number } = {},
): Promise<TestKeyward> {
  const logs: string[] = [];
  const rootKey = env.KEYWARD_ROOT_KEY ?? generateRootKey();
  const config = loadConfig({
    KEYWARD_HOST: "127.0.0.1",
    KEYWARD_HTTP_PORT: "0",
    KEYWARD_GRPC_PORT: "0",
    KEYWARD_LOG_LEVEL: "debug",
    KEYWARD_ROOT_KEY: rootKey,
    // Most suites fail authentication on purpose, all from 127.0.0.1; the limiter has its own test.
    KEYWARD_AUTH_FAILURES_PER_MINUTE: "1000000",
    // Clients that leave a connection open (as after a refused oversized request) hold a stop up to 2 s.
    KEYWARD_SHUTDOWN_TIMEOUT_MS: "3000",
    // Replicas of one deployment share it; tests that start several with REDIS_URL rely on that.
    KEYWARD_REDIS_SECRET: TEST_REDIS_SECRET,
    ...env,
  });
  const logger = createLogger(config.logLevel, { write: (line: string) => void logs.push(line) });
  const keyward = await startKeyward({ config, logger, ...options });
  return { ...keyward, logs, rootKey };
}
