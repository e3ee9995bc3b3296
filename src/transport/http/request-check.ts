import type { DescMessage } from "@bufbuild/protobuf";
import { base64Decode } from "@bufbuild/protobuf/wire";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  type Compression,
  compressedFlag,
  createAsyncIterable,
  type UniversalHandler,
  type UniversalHandlerFn,
  type UniversalServerResponse,
} from "@connectrpc/connect/protocol";
import { codeToHttpStatus, contentTypeUnaryRegExp, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { parseContentType as parseGrpcContentType } from "@connectrpc/connect/protocol-grpc";
import { parseContentType as parseGrpcWebContentType, trailerFlag } from "@connectrpc/connect/protocol-grpc-web";
import { decodeRequest } from "../decode-request.js";

/** What the check needs to know of connect-node's own settings. */
export interface RequestCheckOptions {
  readonly readMaxBytes: number;
  readonly acceptCompression: readonly Compression[];
}

/** How a request body is laid out, as its protocol says. */
interface BodyFormat {
  /** gRPC and gRPC-Web: length-prefixed messages. Connect: the message alone. */
  readonly enveloped: boolean;
  /** Protobuf binary, which is checked here; JSON connect-node already refuses as INVALID_ARGUMENT. */
  readonly binary: boolean;
  /** The compression the caller named; undefined if it named one we do not know (connect-node refuses that). */
  readonly compression: Compression | null | undefined;
  /** gRPC-Web: frames flagged as trailers are no messages. */
  readonly skipFlags: number;
}

const ENVELOPE_HEADER_BYTES = 5;

/**
 * Puts a check in front of a connect-node handler: connect-node reports a body
 * it cannot take apart as INTERNAL (an undecodable message, a message nested
 * too deep, the compressed flag without an encoding, a compressed body cut
 * short, bad base64 in a GET query). The check reads the body first (no
 * further than readMaxBytes), undoes its compression and decodes it as the
 * gRPC port does, so that a malformed request is INVALID_ARGUMENT naming what
 * is wrong whichever protocol carried it; a sound body is handed on as it
 * came, and connect-node decodes it once more. A problem is raised from the
 * body itself, so connect-node still reports it in the protocol's own way.
 */
export function checkRequests(handler: UniversalHandler, options: RequestCheckOptions): UniversalHandlerFn {
  const schema = handler.method.input;
  const acceptsGet = handler.method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS;
  return async (request) => {
    if (request.method === "GET") {
      const problem = acceptsGet ? await queryProblem(new URL(request.url).searchParams, schema, options) : undefined;
      return problem ? connectErrorResponse(problem) : handler(request);
    }
    const format = bodyFormat(request.header, options.acceptCompression);
    const { body } = request;
    if (!format || typeof body !== "object" || body === null || !(Symbol.asyncIterator in body)) {
      return handler(request);
    }
    const limit = options.readMaxBytes + (format.enveloped ? ENVELOPE_HEADER_BYTES : 0);
    return handler({
      ...request,
      body: checkedBody(body, limit, (bytes) => bodyProblem(bytes, format, schema, options)),
    });
  };
}

function bodyFormat(header: Headers, accepted: readonly Compression[]): BodyFormat | undefined {
  const contentType = header.get("content-type");
  const grpcWeb = parseGrpcWebContentType(contentType);
  if (grpcWeb && !grpcWeb.text) {
    const compression = named(header.get("grpc-encoding"), accepted);
    return { enveloped: true, binary: grpcWeb.binary, compression, skipFlags: trailerFlag };
  }
  const grpc = parseGrpcContentType(contentType);
  if (grpc)
    return {
      enveloped: true,
      binary: grpc.binary,
      compression: named(header.get("grpc-encoding"), accepted),
      skipFlags: 0,
    };
  if (contentType && contentTypeUnaryRegExp.test(contentType)) {
    const compression = named(header.get("content-encoding"), accepted);
    return { enveloped: false, binary: contentType.toLowerCase().endsWith("proto"), compression, skipFlags: 0 };
  }
  return undefined;
}

/** The compression a request names: null for none, undefined for one not accepted. */
function named(name: string | null, accepted: readonly Compression[]): Compression | null | undefined {
  if (name === null || name === "identity") return null;
  return accepted.find((compression) => compression.name === name);
}

/** The body, read in full and checked before any of it is handed on; one too large to check goes on unchecked. */
async function* checkedBody(
  body: AsyncIterable<Uint8Array>,
  limit: number,
  problem: (bytes: Uint8Array) => Promise<ConnectError | undefined>,
): AsyncGenerator<Uint8Array> {
  const iterator = body[Symbol.asyncIterator]();
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
    chunks.push(next.value);
    length += next.value.byteLength;
    if (length > limit) {
      // connect-node refuses it by its size (RESOURCE_EXHAUSTED) before decoding anything.
      yield* chunks;
      for (let rest = await iterator.next(); !rest.done; rest = await iterator.next()) yield rest.value;
      return;
    }
  }
  const bytes = Buffer.concat(chunks);
  const found = await problem(bytes);
  if (found) throw found;
  yield bytes;
}

async function bodyProblem(
  bytes: Uint8Array,
  format: BodyFormat,
  schema: DescMessage,
  options: RequestCheckOptions,
): Promise<ConnectError | undefined> {
  if (format.compression === undefined) return undefined;
  if (!format.enveloped) {
    const message = format.compression ? await decompressed(bytes, format.compression, options) : bytes;
    return messageProblem(message, format.binary, schema);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let offset = 0; offset + ENVELOPE_HEADER_BYTES <= bytes.byteLength; ) {
    const flags = view.getUint8(offset);
    const end = offset + ENVELOPE_HEADER_BYTES + view.getUint32(offset + 1);
    // An envelope cut short connect-node refuses as INVALID_ARGUMENT itself.
    if (end > bytes.byteLength) return undefined;
    let message: Uint8Array | ConnectError = bytes.subarray(offset + ENVELOPE_HEADER_BYTES, end);
    offset = end;
    if ((flags & format.skipFlags) !== 0) continue;
    if ((flags & compressedFlag) !== 0) {
      if (!format.compression) {
        return new ConnectError(
          "request message is flagged compressed, but grpc-encoding names no compression",
          Code.InvalidArgument,
        );
      }
      message = await decompressed(message, format.compression, options);
    }
    const problem = messageProblem(message, format.binary, schema);
    if (problem) return problem;
  }
  return undefined;
}

/** The problem a GET request's query has (Connect puts the message there), if any. */
async function queryProblem(
  query: URLSearchParams,
  schema: DescMessage,
  options: RequestCheckOptions,
): Promise<ConnectError | undefined> {
  const encoding = query.get("encoding");
  const compression = named(query.get("compression"), options.acceptCompression);
  // Anything else connect-node answers itself, with a caller's error.
  if ((encoding !== "proto" && encoding !== "json") || compression === undefined) return undefined;
  const text = query.get("message") ?? "";
  let message: Uint8Array | ConnectError;
  if (query.get("base64") === "1") {
    try {
      message = base64Decode(text);
    } catch {
      return new ConnectError("message: not valid base64", Code.InvalidArgument);
    }
  } else {
    message = new TextEncoder().encode(text);
  }
  if (compression) message = await decompressed(message, compression, options);
  return messageProblem(message, encoding === "proto", schema);
}

function messageProblem(
  message: Uint8Array | ConnectError,
  binary: boolean,
  schema: DescMessage,
): ConnectError | undefined {
  if (message instanceof ConnectError) return message;
  if (!binary) return undefined;
  const decoded = decodeRequest(schema, message);
  return decoded instanceof ConnectError ? decoded : undefined;
}

/** The bytes decompressed, or the error to answer: a body that does not decompress is the caller's doing. */
async function decompressed(
  bytes: Uint8Array,
  compression: Compression,
  options: RequestCheckOptions,
): Promise<Uint8Array | ConnectError> {
  try {
    return await compression.decompress(bytes, options.readMaxBytes);
  } catch (error) {
    const refused = ConnectError.from(error);
    if (refused.code !== Code.Internal) return refused;
    return new ConnectError(`request could not be decompressed (${compression.name})`, Code.InvalidArgument);
  }
}

/** An error answered the way connect-node answers a Connect unary call. */
function connectErrorResponse(error: ConnectError): UniversalServerResponse {
  return {
    status: codeToHttpStatus(error.code),
    header: new Headers({ "content-type": "application/json" }),
    body: createAsyncIterable([errorToJsonBytes(error, {})]),
  };
}
