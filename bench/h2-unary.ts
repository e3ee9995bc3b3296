/**
 * A bare unary gRPC call over node:http2, for load generators: a
 * generated client (connect-node, grpc-js) spent more CPU per call than the
 * server under test, and a benchmark on two cores then measures its client.
 * No retries, deadlines or compression; an answer other than grpc-status 0
 * is an error carrying that status.
 */
import { type ClientHttp2Session, connect, constants } from "node:http2";
import {
  create,
  type DescMessage,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";

export function openSession(url: string): ClientHttp2Session {
  return connect(url);
}

export function unary<I extends DescMessage, O extends DescMessage>(
  session: ClientHttp2Session,
  path: string,
  headers: Record<string, string>,
  input: I,
  init: MessageInitShape<I>,
  output: O,
): Promise<MessageShape<O>> {
  const message = toBinary(input, create(input, init));
  const body = Buffer.alloc(5 + message.length);
  body.writeUInt32BE(message.length, 1);
  body.set(message, 5);
  return new Promise((resolve, reject) => {
    const stream = session.request({
      [constants.HTTP2_HEADER_METHOD]: "POST",
      [constants.HTTP2_HEADER_PATH]: path,
      "content-type": "application/grpc",
      te: "trailers",
      ...headers,
    });
    const chunks: Buffer[] = [];
    // A trailers-only answer (an error) carries grpc-status in its headers.
    let status: string | undefined;
    stream.on("response", (head) => {
      status = (head["grpc-status"] as string | undefined) ?? status;
    });
    stream.on("trailers", (trailers) => {
      status = (trailers["grpc-status"] as string | undefined) ?? status;
    });
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("error", reject);
    stream.on("close", () => {
      if (status !== "0") return reject(new Error(`grpc-status ${status ?? "missing"}`));
      const answer = Buffer.concat(chunks);
      resolve(fromBinary(output, answer.subarray(5, 5 + answer.readUInt32BE(1))));
    });
    stream.end(body);
  });
}
