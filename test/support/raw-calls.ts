import http from "node:http";
import http2 from "node:http2";
import { Code } from "@connectrpc/connect";
import { codeFromString } from "@connectrpc/connect/protocol-connect";
import { trailerParse } from "@connectrpc/connect/protocol-grpc-web";

/** What a raw call was answered: the RPC code (OK included) and message. */
export interface RawAnswer {
  readonly code: Code | "ok";
  readonly message: string;
}

/** A gRPC length-prefixed message: flags (bit 0: compressed), length, bytes. */
export function envelope(bytes: Uint8Array, flags = 0): Buffer {
  const header = Buffer.alloc(5);
  header[0] = flags;
  header.writeUInt32BE(bytes.length, 1);
  return Buffer.concat([header, bytes]);
}

/** A request sent as given over HTTP/1.1 on a connection of its own; resolves with the status and the whole body. */
export function http1Request(
  port: number,
  request: { path: string; method?: string; headers?: Record<string, string>; body?: Uint8Array | string },
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      {
        host: "127.0.0.1",
        port,
        path: request.path,
        method: request.method ?? "POST",
        headers: { ...request.headers, connection: "close" },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    outgoing.on("error", reject);
    outgoing.end(request.body);
  });
}

/** A Connect unary call (POST, or GET with the message in the query) with the body as given. */
export async function connectCall(
  port: number,
  request: { path: string; method?: string; headers?: Record<string, string>; body?: Uint8Array | string },
): Promise<RawAnswer> {
  const { status, body } = await http1Request(port, request);
  if (status === 200) return { code: "ok", message: "" };
  const error = JSON.parse(body.toString("utf8")) as { code: string; message?: string };
  return { code: codeFromString(error.code) ?? Code.Unknown, message: error.message ?? "" };
}

/** A gRPC-Web call over HTTP/1.1 with the body as given; the status comes from the trailer frame. */
export async function grpcWebCall(
  port: number,
  path: string,
  body: Uint8Array,
  headers: Record<string, string> = {},
): Promise<RawAnswer> {
  const response = await http1Request(port, {
    path,
    headers: { "content-type": "application/grpc-web+proto", ...headers },
    body,
  });
  let status = response.headers["grpc-status"] as string | undefined;
  let message = response.headers["grpc-message"] as string | undefined;
  for (let offset = 0; offset + 5 <= response.body.length; ) {
    const length = response.body.readUInt32BE(offset + 1);
    if (response.body[offset] === 0x80) {
      const trailer = trailerParse(response.body.subarray(offset + 5, offset + 5 + length));
      status = trailer.get("grpc-status") ?? status;
      message = trailer.get("grpc-message") ?? message;
    }
    offset += 5 + length;
  }
  return answer(status, message);
}

/** A gRPC call over HTTP/2 (either port) with the body as given. */
export function grpcCall(
  port: number,
  path: string,
  body: Uint8Array,
  headers: Record<string, string> = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on("error", reject);
    const stream = session.request({
      ":method": "POST",
      ":path": path,
      "content-type": "application/grpc",
      te: "trailers",
      ...headers,
    });
    let head: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    stream.on("response", (received) => {
      head = received;
    });
    stream.on("trailers", (received) => {
      trailers = received;
    });
    stream.on("error", reject);
    stream.on("close", () => {
      session.close();
      const status = (trailers["grpc-status"] ?? head["grpc-status"]) as string | undefined;
      const message = (trailers["grpc-message"] ?? head["grpc-message"]) as string | undefined;
      try {
        resolve(answer(status, message));
      } catch (error) {
        reject(error);
      }
    });
    stream.resume();
    stream.end(body);
  });
}

function answer(status: string | undefined, message: string | undefined): RawAnswer {
  if (status === undefined) throw new Error("the answer carried no grpc-status");
  const code = Number(status);
  return { code: code === 0 ? "ok" : (code as Code), message: decodeURIComponent(message ?? "") };
}
