import {
  create,
  type DescMethodUnary,
  type DescService,
  fromBinary,
  type Message,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import { type Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { credentials, Client as GrpcClient, Metadata, type ServiceError } from "@grpc/grpc-js";
import type { Keyward } from "../../src/composition/start-keyward.js";

/** How a test reaches Keyward: which port, which client library, which protocol. */
export type Route =
  | "grpc-js → gRPC port"
  | "connect gRPC → gRPC port"
  | "connect → HTTP port"
  | "connect gRPC-Web → HTTP port"
  | "connect gRPC → HTTP port";

/** Every route callers can take. */
export const ROUTES: readonly Route[] = [
  "grpc-js → gRPC port",
  "connect gRPC → gRPC port",
  "connect → HTTP port",
  "connect gRPC-Web → HTTP port",
  "connect gRPC → HTTP port",
];

/** An error as the caller sees it, the same whichever route carried it. */
export interface CallError {
  readonly code: Code;
  readonly message: string;
}

/** Calls any unary method of a service; request headers optional. */
export type Caller = <M extends DescMethodUnary>(
  method: M,
  request: MessageInitShape<M["input"]>,
  headers?: Record<string, string>,
) => Promise<MessageShape<M["output"]>>;

/** A caller for one route, and how to close it. */
export interface RouteClient {
  readonly call: Caller;
  close(): void;
}

/** Where a route connects (127.0.0.1 unless `host` says otherwise), and the root key it presents unless a call says otherwise. */
export type Target = Pick<Keyward, "grpcPort" | "httpPort"> & { readonly rootKey?: string; readonly host?: string };

/** Opens a client on the given route; every call sends `authorization: Bearer <rootKey>` unless its headers replace it. */
export function connectRoute(route: Route, target: Target, rootKey = target.rootKey): RouteClient {
  const host = target.host?.includes(":") ? `[${target.host}]` : (target.host ?? "127.0.0.1");
  const grpcUrl = `http://${host}:${target.grpcPort}`;
  const httpUrl = `http://${host}:${target.httpPort}`;
  const defaults: Record<string, string> = rootKey ? { authorization: `Bearer ${rootKey}` } : {};
  const client = ((): RouteClient => {
    switch (route) {
      case "grpc-js → gRPC port":
        return grpcJsCaller(`${host}:${target.grpcPort}`);
      case "connect gRPC → gRPC port":
        return connectCaller(createGrpcTransport({ baseUrl: grpcUrl }));
      case "connect → HTTP port":
        return connectCaller(createConnectTransport({ baseUrl: httpUrl, httpVersion: "1.1" }));
      case "connect gRPC-Web → HTTP port":
        return connectCaller(createGrpcWebTransport({ baseUrl: httpUrl, httpVersion: "1.1" }));
      case "connect gRPC → HTTP port":
        return connectCaller(createGrpcTransport({ baseUrl: httpUrl }));
    }
  })();
  return {
    call: (method, request, headers) => client.call(method, request, headers ?? defaults),
    close: () => client.close(),
  };
}

/** The error a call failed with, in the form every route shares; fails the test if the call succeeded. */
export async function callError(promise: Promise<unknown>): Promise<CallError> {
  try {
    await promise;
  } catch (error) {
    const connectError = ConnectError.from(error);
    return { code: connectError.code, message: connectError.rawMessage };
  }
  throw new Error("expected the call to fail, but it succeeded");
}

function connectCaller(transport: Transport): RouteClient {
  const clients = new Map<DescService, Record<string, unknown>>();
  const call: Caller = (method, request, headers) => {
    let client = clients.get(method.parent);
    if (!client) {
      client = createClient(method.parent, transport) as unknown as Record<string, unknown>;
      clients.set(method.parent, client);
    }
    const invoke = client[method.localName] as (req: unknown, options: unknown) => Promise<never>;
    return invoke(request, { headers });
  };
  return { call, close() {} };
}

function grpcJsCaller(address: string): RouteClient {
  const client = new GrpcClient(address, credentials.createInsecure());
  const call: Caller = (method, request, headers = {}) => {
    const metadata = new Metadata();
    for (const [name, value] of Object.entries(headers)) metadata.set(name, value);
    return new Promise((resolve, reject) => {
      client.makeUnaryRequest(
        `/${method.parent.typeName}/${method.name}`,
        (message: Message) => Buffer.from(toBinary(method.input, message)),
        (bytes: Buffer) => fromBinary(method.output, bytes),
        create(method.input, request),
        metadata,
        (error: ServiceError | null, response?: Message) => {
          if (error) reject(new ConnectError(error.details, error.code as number as Code));
          else resolve(response as never);
        },
      );
    });
  };
  return { call, close: () => client.close() };
}
