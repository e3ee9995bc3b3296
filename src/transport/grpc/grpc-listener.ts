import { Server, ServerCredentials } from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import type { BoundService } from "../../chain/call.js";
import type { ConnectionLimits } from "../connection-limits.js";
import { MAX_REQUEST_BYTES } from "../request-size.js";
import { listenTcp } from "../tcp-listener.js";
import { addReflection } from "./grpc-reflection.js";
import { addGrpcServices } from "./grpc-server.js";

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

/**
 * The gRPC port: the bound services, `grpc.health.v1.Health` and server reflection. The port
 * is our own TCP listener, which holds each connection to the handshake timeout before grpc-js
 * gets it (grpc-js has no such timeout); grpc-js bounds idleness, streams and session memory.
 */
export async function listenGrpc(
  services: readonly BoundService[],
  host: string,
  port: number,
  limits: ConnectionLimits,
): Promise<GrpcListener> {
  const server = new Server({
    "grpc.max_receive_message_length": MAX_REQUEST_BYTES,
    "grpc.max_concurrent_streams": limits.maxConcurrentStreams,
    "grpc.max_connection_idle_ms": limits.idleTimeoutMs,
    // Without it grpc-js lifts Node's limit altogether (Number.MAX_SAFE_INTEGER megabytes).
    "grpc-node.max_session_memory": limits.maxSessionMemoryMb,
  });
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
  const injector = server.createConnectionInjector(ServerCredentials.createInsecure());
  const tcp = await listenTcp(host, port, limits.handshakeTimeoutMs, (socket, protocol) => {
    // Nothing but HTTP/2 is served here.
    if (protocol === "http2") injector.injectConnection(socket);
    else socket.destroy();
  });
  return {
    port: tcp.port,
    setServing(serving) {
      for (const name of names) health.setStatus(name, serving ? "SERVING" : "NOT_SERVING");
    },
    close: (drainMs) =>
      new Promise<void>((resolve) => {
        void tcp.close();
        const deadline = setTimeout(() => {
          server.forceShutdown();
          tcp.destroyConnections();
          resolve();
        }, drainMs);
        server.tryShutdown(() => {
          clearTimeout(deadline);
          resolve();
        });
      }),
  };
}
