import { Server, ServerCredentials } from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import type { BoundService } from "../rpc/call.js";
import { addReflection } from "./grpc-reflection.js";
import { addGrpcServices } from "./grpc-server.js";
import { MAX_REQUEST_BYTES } from "./limits.js";

/**
 * The health-service name that answers SERVING for as long as the process serves, whatever the
 * stores do: what Kubernetes' gRPC liveness probe asks, so that a store outage restarts nothing.
 */
export const LIVENESS_SERVICE = "liveness";

/** A listening gRPC server and its health status. */
export interface GrpcListener {
  readonly port: number;
  /** Sets what `grpc.health.v1.Health` answers for the whole server and for each service (readiness). */
  setServing(serving: boolean): void;
  /** Stops accepting and lets calls in flight finish; past `drainMs`, cuts off what is left. */
  close(drainMs: number): Promise<void>;
}

/** The gRPC port: the bound services, `grpc.health.v1.Health` and server reflection. */
export async function listenGrpc(services: readonly BoundService[], host: string, port: number): Promise<GrpcListener> {
  const server = new Server({ "grpc.max_receive_message_length": MAX_REQUEST_BYTES });
  addGrpcServices(server, services);
  const names = ["", ...services.map(({ service }) => service.typeName)];
  const health = new HealthImplementation({
    ...Object.fromEntries(names.map((name) => [name, "NOT_SERVING"])),
    [LIVENESS_SERVICE]: "SERVING",
  });
  health.addToServer(server);
  addReflection(
    server,
    services.map(({ service }) => service),
  );
  const boundPort = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (error, actual) =>
      error ? reject(error) : resolve(actual),
    ),
  );
  return {
    port: boundPort,
    setServing(serving) {
      for (const name of names) health.setStatus(name, serving ? "SERVING" : "NOT_SERVING");
    },
    close: (drainMs) =>
      new Promise<void>((resolve) => {
        const deadline = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, drainMs);
        server.tryShutdown(() => {
          clearTimeout(deadline);
          resolve();
        });
      }),
  };
}
