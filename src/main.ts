import { ConfigError, loadConfig } from "./composition/config.js";
import { devModeBanner } from "./composition/dev-banner.js";
import { startKeyward } from "./composition/start-keyward.js";
import { createLogger } from "./observability/logger.js";

/** Entry point: configuration → Keyward → signals. Only this file reads process.env or exits. */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger(config.logLevel);
  const keyward = await startKeyward({ config, logger });
  if (config.devMode) {
    const addresses = `gRPC: ${config.host}:${keyward.grpcPort}   HTTP: ${config.host}:${keyward.httpPort}`;
    const rootKey = keyward.generatedRootKey
      ? ["", "Root key for management calls (shown only now):", keyward.generatedRootKey]
      : [];
    process.stderr.write(`\n${devModeBanner([addresses, ...rootKey])}\n\n`);
  } else if (!config.rootKey) {
    logger.warn("KEYWARD_ROOT_KEY is not set: only root keys already stored can authorise management calls");
  }
  logger.info(
    { grpcPort: keyward.grpcPort, httpPort: keyward.httpPort, host: config.host, devMode: config.devMode },
    "keyward started",
  );

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "draining calls and stopping");
    const deadline = setTimeout(() => {
      logger.error({ timeoutMs: config.shutdownTimeoutMs }, "calls still in flight at the shutdown deadline; exiting");
      process.exit(1);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    keyward.stop().then(
      () => {
        logger.info("stopped");
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, "failed to stop cleanly");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`keyward: ${error.message}\n`);
  } else {
    process.stderr.write(`keyward: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  process.exit(1);
});
