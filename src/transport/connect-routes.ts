import type { IncomingMessage } from "node:http";
import type { Http2ServerRequest } from "node:http2";
import type { DescService, Message } from "@bufbuild/protobuf";
import {
  type ConnectRouter,
  createContextKey,
  createContextValues,
  type HandlerContext,
  type ServiceImpl,
} from "@connectrpc/connect";
import type { BoundService, Call, Procedure } from "../rpc/call.js";
import { requestIdFrom } from "../rpc/request-id.js";

const peerKey = createContextKey<string>("", { description: "caller address" });

/** Routes for connect-node: each bound service as a Connect ServiceImpl. */
export function connectRoutes(services: readonly BoundService[]): (router: ConnectRouter) => void {
  return (router) => {
    for (const { service, procedures } of services) {
      const implementation = Object.fromEntries(
        procedures.map((procedure) => [
          procedure.method.localName,
          (request: Message, context: HandlerContext) => procedure.invoke(request, callFrom(context, procedure)),
        ]),
      );
      // Built from the descriptor at run time, so the static type cannot follow.
      router.service(service, implementation as unknown as ServiceImpl<DescService>);
    }
  };
}

/** Puts the caller's address where `callFrom` finds it; pass as connect-node's `contextValues`. */
export function peerContextValues(request: IncomingMessage | Http2ServerRequest) {
  const { remoteAddress = "", remotePort = 0 } = request.socket;
  return createContextValues().set(peerKey, `${remoteAddress}:${remotePort}`);
}

function callFrom(context: HandlerContext, { method }: Procedure): Call {
  const header = (name: string) => context.requestHeader.get(name) ?? undefined;
  return { method, peer: context.values.get(peerKey), requestId: requestIdFrom(header("x-request-id")), header };
}
