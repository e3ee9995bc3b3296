import { create, type DescMessage, fromBinary, type Message, toBinary } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import type {
  Server,
  ServerUnaryCall,
  ServiceDefinition,
  sendUnaryData,
  UntypedServiceImplementation,
} from "@grpc/grpc-js";
import type { BoundService, Call, Procedure, Reply } from "../../chain/call.js";
import { peerFromAddressAndPort } from "../../chain/peer-address.js";
import { requestIdFrom } from "../../chain/request-id.js";
import { isSharedReply } from "../../chain/shared-replies.js";
import { decodeRequest } from "../decode-request.js";
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
    responseSerialize: (response: Reply) => serialize(method.output, response),
    responseDeserialize: (bytes: Buffer) => fromBinary(method.output, bytes),
  };
}

/**
 * Encodings of shared replies (chain/shared-replies.ts: VerifyKey's and
 * Check's answers for a key's state), each made once and kept while the reply
 * lives. Other replies are encoded every time, and kept nowhere.
 */
const encoded = new WeakMap<Message, Buffer>();

function serialize(schema: DescMessage, response: Reply): Buffer {
  const message = create(schema, response);
  if (!isSharedReply(message)) return encode(schema, message);
  let bytes = encoded.get(message);
  if (!bytes) {
    bytes = encode(schema, message);
    encoded.set(message, bytes);
  }
  return bytes;
}

function encode(schema: DescMessage, message: Message): Buffer {
  const binary = toBinary(schema, message);
  return Buffer.from(binary.buffer, binary.byteOffset, binary.byteLength);
}

function handler(procedure: Procedure) {
  return (grpcCall: ServerUnaryCall<Message | ConnectError, Reply>, callback: sendUnaryData<Reply>) => {
    const request = grpcCall.request;
    if (request instanceof ConnectError) return callback(toGrpcError(request));
    procedure.invoke(request, new GrpcCall(grpcCall, procedure.method)).then(
      (response) => callback(null, response),
      // The chain maps every failure (chain/error-mapping.ts); anything else is a fault in the chain itself.
      (error: unknown) => callback(toGrpcError(ConnectError.from(error))),
    );
  };
}

/**
 * A grpc-js call as the services see it. A class, not an object literal with
 * closures: one is made per request, and per-call closures over the grpc-js
 * call cost a fifth of the throughput in garbage collection. Peer and request
 * id are worked out only if something (a log line, the audit log) asks.
 */
class GrpcCall implements Call {
  private cachedPeer?: string;
  private cachedRequestId?: string;
  principal?: Call["principal"];
  target?: Call["target"];

  constructor(
    private readonly grpcCall: ServerUnaryCall<unknown, Reply>,
    readonly method: Procedure["method"],
  ) {}

  header(name: string): string | undefined {
    const value = this.grpcCall.metadata.get(name)[0];
    return typeof value === "string" ? value : undefined;
  }

  get peer(): string {
    this.cachedPeer ??= peerFromAddressAndPort(this.grpcCall.getPeer());
    return this.cachedPeer;
  }

  get requestId(): string {
    this.cachedRequestId ??= requestIdFrom(this.header("x-request-id"));
    return this.cachedRequestId;
  }
}
