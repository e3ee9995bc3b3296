import type { IncomingMessage } from "node:http";
import type { Http2ServerRequest } from "node:http2";
import { Code, ConnectError, type ConnectRouter, type ContextValues, createConnectRouter } from "@connectrpc/connect";
import type { UniversalHandlerFn } from "@connectrpc/connect/protocol";
import {
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import type { Logger } from "../../observability/logger.js";
import type { HttpHandler } from "./http-server.js";
import { repairAuthority } from "./request-authority.js";
import { checkRequests } from "./request-check.js";

export interface ConnectAdapterOptions {
  readonly routes: (router: ConnectRouter) => void;
  /** Serves every path that is no RPC. */
  readonly fallback: HttpHandler;
  readonly contextValues: (request: IncomingMessage | Http2ServerRequest) => ContextValues;
  readonly readMaxBytes: number;
  /** Where a handler's failure to answer at all is reported (the call chain has already logged the call). */
  readonly logger: Logger;
}

/**
 * connect-node's `connectNodeAdapter`, with every RPC handler behind
 * `checkRequests` so that malformed bodies get a caller's error whatever the
 * protocol, and each request's authority made one connect-node can build a
 * URL from. Everything else is as connect-node does it.
 */
export function connectAdapter(options: ConnectAdapterOptions): HttpHandler {
  const acceptCompression = [compressionGzip, compressionBrotli];
  const router = createConnectRouter({ readMaxBytes: options.readMaxBytes, acceptCompression });
  options.routes(router);
  const handlers = new Map<string, { handler: UniversalHandlerFn; name: string }>();
  for (const handler of router.handlers) {
    handlers.set(handler.requestPath, {
      handler: checkRequests(handler, { readMaxBytes: options.readMaxBytes, acceptCompression }),
      name: `${handler.service.typeName}/${handler.method.name}`,
    });
  }
  return (request, response) => {
    const route = handlers.get(request.url?.split("?", 2)[0] ?? "");
    if (!route) return options.fallback(request, response);
    repairAuthority(request);
    const universalRequest = universalRequestFromNodeRequest(
      request,
      response,
      undefined,
      options.contextValues(request),
    );
    route
      .handler(universalRequest)
      .then((universalResponse) => universalResponseToNodeResponse(universalResponse, response))
      .catch((reason: unknown) => {
        if (ConnectError.from(reason).code === Code.Aborted) return;
        options.logger.error({ rpc: route.name, err: reason }, "the HTTP port could not answer a call");
      });
  };
}
