import { fromBinary, type Message, toBinary } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import type {
  Server,
  ServerUnaryCall,
  ServiceDefinition,
  sendUnaryData,
  UntypedServiceImplementation,
} from "@grpc/grpc-js";
import type { BoundService, Call, Procedure } from "../rpc/call.js";
import { toConnectError } from "../rpc/error-mapping.js";
import { requestIdFrom } from "../rpc/request-id.js";
import { decodeRequest } from "./decode-request.js";
import { toGrpcError } from "./grpc-errors.js";

/**
 * Serves bound services on a grpc-js server: the hot path. Messages are
 * (de)serialized with protobuf-es from the generated descriptors, so no second
 * copy of the schema is needed.
 */
export function addGrpcServices(server: Server, services: readonly BoundService[]): void {
  for (const { procedures } of services) {
    const definition: Record<string, ServiceDefinition[string]> = {};
    const implementation: UntypedServiceImplementation = {};
    for (const procedure of procedures) {
      definition[procedure.method.name] = methodDefinition(procedure);
      implementation[procedure.method.name] = handler(procedure);
    }
    server.addService(definition, implementation);
  }
}

function methodDefinition({ method }: Procedure) {
  return {
    path: `/${method.parent.typeName}/${method.name}`,
    requestStream: false,
    responseStream: false,
    originalName: method.localName,
    requestSerialize: (message: Message) => Buffer.from(toBinary(method.input, message)),
    requestDeserialize: (bytes: Buffer) => decodeRequest(method.input, bytes),
    responseSerialize: (message: Message) => Buffer.from(toBinary(method.output, message)),
    responseDeserialize: (bytes: Buffer) => fromBinary(method.output, bytes),
  };
}

function handler(procedure: Procedure) {
  return (grpcCall: ServerUnaryCall<Message | ConnectError, Message>, callback: sendUnaryData<Message>) => {
    const request = grpcCall.request;
    if (request instanceof ConnectError) return callback(toGrpcError(request));
    procedure.invoke(request, callFrom(grpcCall, procedure)).then(
      (response) => callback(null, response),
      (error: unknown) => callback(toGrpcError(toConnectError(error))),
    );
  };
}

function callFrom(grpcCall: ServerUnaryCall<unknown, Message>, { method }: Procedure): Call {
  const header = (name: string) => {
    const value = grpcCall.metadata.get(name)[0];
    return typeof value === "string" ? value : undefined;
  };
  return { method, peer: grpcCall.getPeer(), requestId: requestIdFrom(header("x-request-id")), header };
}
