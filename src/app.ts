import { KeyService } from "../gen/keyward/v1/key_service_pb.js";
import type { Config } from "./config.js";
import { checkReadiness } from "./health/readiness.js";
import { type Clock, systemClock } from "./keys/clock.js";
import { createKeyHasher } from "./keys/key-hasher.js";
import { createKeyIdFactory } from "./keys/key-id.js";
import type { Logger } from "./logger.js";
import { bindService } from "./rpc/bind-service.js";
import { createErrorMapping } from "./rpc/error-mapping.js";
import { createKeyService } from "./rpc/key-service.js";
import { createLogging } from "./rpc/logging.js";
import { createValidation } from "./rpc/validation.js";
import { openStores } from "./stores.js";
import { listenGrpc } from "./transport/grpc-listener.js";
import { httpRoutes } from "./transport/http-routes.js";
import { listenHttp } from "./transport/http-server.js";

/** A running Keyward. */
export interface Keyward {
  readonly grpcPort: number;
  readonly httpPort: number;
  /** Stops accepting calls, drains those in flight, closes the stores. */
  stop(): Promise<void>;
}

export interface KeywardOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** How often the gRPC health service re-checks the stores. */
  readonly healthRefreshMs?: number;
}

const READINESS_TIMEOUT_MS = 1_000;

/** Wires stores, services and both transports together and starts listening. */
export async function startKeyward({
  config,
  logger,
  clock = systemClock,
  healthRefreshMs = 5_000,
}: KeywardOptions): Promise<Keyward> {
  const stores = await openStores(config, logger);
  const middleware = [createLogging(logger), createErrorMapping(), createValidation()];
  const services = [
    bindService(
      KeyService,
      createKeyService({
        store: stores.keys,
        hasher: createKeyHasher(config.hashSecret),
        clock,
        newKeyId: createKeyIdFactory(clock),
        defaults: { keyspaceId: "default", prefix: "kw", byteLength: 16 },
      }),
      middleware,
    ),
  ];
  const readiness = () => checkReadiness(stores.dependencies, READINESS_TIMEOUT_MS);
  const grpc = await listenGrpc(services, config.host, config.grpcPort);
  const http = await listenHttp(httpRoutes(services, readiness), config.httpPort, config.host);

  // The gRPC health service mirrors /readyz, refreshed in the background.
  const refreshHealth = async () => grpc.setServing((await readiness()).ready);
  await refreshHealth();
  const healthTimer = setInterval(refreshHealth, healthRefreshMs);
  healthTimer.unref();

  return {
    grpcPort: grpc.port,
    httpPort: http.port,
    async stop() {
      clearInterval(healthTimer);
      grpc.setServing(false);
      await Promise.all([grpc.close(), http.close()]);
      await stores.close();
    },
  };
}
