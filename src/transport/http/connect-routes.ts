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
import type { BoundService, Call, Procedure } from "../../chain/call.js";
import { formatPeer } from "../../chain/peer-address.js";
import { requestIdFrom } from "../../chain/request-id.js";

const peerKey = createContextKey<string>("", { description: "caller address" });

/** Routes for connect-node: each bound service as a Connect ServiceImpl. */
export function connectRoutes(services: readonly BoundService[]): (router: ConnectRouter) => void {
  return (router) => {
    for (const { service, procedures } of services) {
      const implementation = Object.fromEntries(
        procedures.map((procedure) => [
          procedure.method.localName,
          (request: Message, context: HandlerContext) =>
            procedure.invoke(request, new ConnectCall(context, procedure.method)),
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
  return createContextValues().set(peerKey, formatPeer(remoteAddress, remotePort));
}

/** A Connect call as the services see it (a class, for the reason GrpcCall gives). */
class ConnectCall implements Call {
  private cachedRequestId?: string;
  principal?: Call["principal"];
  target?: Call["target"];

  constructor(
    private readonly context: HandlerContext,
    readonly method: Procedure["method"],
  ) {}

  header(name: string): string | undefined {
    return this.context.requestHeader.get(name) ?? undefined;
  }

  get peer(): string {
    return this.context.values.get(peerKey);
  }

  get requestId(): string {
    this.cachedRequestId ??= requestIdFrom(this.header("x-request-id"));
    return this.cachedRequestId;
  }
}
