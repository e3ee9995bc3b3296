import type { Registry } from "prom-client";
import type { BoundService } from "../../chain/call.js";
import type { Logger } from "../../observability/logger.js";
import type { ReadinessReport } from "../../observability/readiness.js";
import { MAX_REQUEST_BYTES } from "../request-size.js";
import { connectAdapter } from "./connect-adapter.js";
import { connectRoutes, peerContextValues } from "./connect-routes.js";
import type { HttpHandler } from "./http-server.js";

/**
 * The HTTP port: every bound service over Connect, gRPC-Web and gRPC, plus
 * `/healthz` (the process is alive), `/readyz` (every store answers) and
 * `/metrics` (Prometheus).
 */
export function httpRoutes(
  services: readonly BoundService[],
  readiness: () => Promise<ReadinessReport>,
  metrics: Registry,
  logger: Logger,
): HttpHandler {
  return connectAdapter({
    logger,
    routes: connectRoutes(services),
    contextValues: peerContextValues,
    readMaxBytes: MAX_REQUEST_BYTES,
    fallback(request, response) {
      const path = request.url?.split("?")[0];
      if (request.method === "GET" && path === "/healthz") {
        respondJson(response, 200, { status: "ok" });
      } else if (request.method === "GET" && path === "/readyz") {
        readiness().then(
          (report) => respondJson(response, report.ready ? 200 : 503, report),
          () => respondJson(response, 503, { ready: false }),
        );
      } else if (request.method === "GET" && path === "/metrics") {
        metrics.metrics().then(
          (text) => {
            response.writeHead(200, { "content-type": metrics.contentType });
            response.end(text);
          },
          () => respondJson(response, 500, { error: "metrics unavailable" }),
        );
      } else {
        respondJson(response, 404, { error: "not found" });
      }
    },
  });
}

function respondJson(response: Parameters<HttpHandler>[1], status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  response.end(text);
}
