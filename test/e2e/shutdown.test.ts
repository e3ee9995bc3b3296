import http2 from "node:http2";
import net from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { CreateKeyRequestSchema } from "../../gen/keyward/v1/key_service_pb.js";
import { generateRootKey } from "../../src/composition/bootstrap.js";
import { startKeywardProcess } from "../support/process.js";

/** Opens a raw HTTP/1.1 connection and sends all but the last byte of a CreateKey call. */
async function startSlowCall(port: number, rootKey: string) {
  const body = JSON.stringify({ name: "in flight during shutdown" });
  const socket = net.connect(port, "127.0.0.1");
  await new Promise((resolve) => socket.once("connect", resolve));
  let response = "";
  socket.on("data", (chunk) => {
    response += chunk;
  });
  const ended = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.write(
    "POST /keyward.v1.KeyService/CreateKey HTTP/1.1\r\nhost: keyward\r\ncontent-type: application/json\r\n" +
      `authorization: Bearer ${rootKey}\r\n` +
      `content-length: ${body.length}\r\n\r\n${body.slice(0, -1)}`,
  );
  return {
    finish: async () => {
      socket.write(body.slice(-1));
      await ended;
      return response;
    },
  };
}

/** Opens an HTTP/2 stream to the gRPC port and sends all but the last byte of a CreateKey call. */
async function startSlowGrpcCall(port: number, rootKey: string) {
  const message = toBinary(CreateKeyRequestSchema, create(CreateKeyRequestSchema, { name: "in flight on gRPC" }));
  const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, message.length]), message]);
  const session = http2.connect(`http://127.0.0.1:${port}`);
  const stream = session.request({
    ":method": "POST",
    ":path": "/keyward.v1.KeyService/CreateKey",
    "content-type": "application/grpc",
    te: "trailers",
    authorization: `Bearer ${rootKey}`,
  });
  const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once("trailers", resolve));
  // A call cut off at the shutdown deadline ends in a reset; that is expected here.
  session.on("error", () => {});
  stream.on("error", () => {});
  let received = 0;
  stream.on("data", (chunk: Buffer) => {
    received += chunk.length;
  });
  stream.write(frame.subarray(0, -1));
  await new Promise((resolve) => setTimeout(resolve, 100)); // the server has the call
  return {
    finish: async () => {
      stream.end(frame.subarray(-1));
      const ended = await trailers;
      session.close();
      return { status: ended["grpc-status"], received };
    },
  };
}

describe("SIGTERM", () => {
  it("stops accepting, finishes the call in flight, closes the stores and exits 0", async () => {
    const rootKey = generateRootKey();
    const keyward = await startKeywardProcess("node", ["dist/src/main.js"], {
      REDIS_URL: "redis://127.0.0.1:6379",
      KEYWARD_ROOT_KEY: rootKey,
    });
    const slow = await startSlowCall(keyward.httpPort, rootKey);
    const slowGrpc = await startSlowGrpcCall(keyward.grpcPort, rootKey);
    const exit = keyward.signal("SIGTERM");
    await expect.poll(() => keyward.output()).toContain("draining calls and stopping");

    // New connections are refused on both ports while the old call is still being answered.
    for (const port of [keyward.grpcPort, keyward.httpPort]) expect(await connectionRefused(port)).toBe(true);

    const response = await slow.finish();
    expect(response).toMatch(/^HTTP\/1\.1 200/);
    expect(response).toMatch(/"keyId":"key_/);
    const grpcAnswer = await slowGrpc.finish();
    expect(grpcAnswer.status).toBe("0");
    expect(grpcAnswer.received).toBeGreaterThan(5); // a CreateKeyResponse, not an empty frame
    expect(await exit).toBe(0);
    expect(keyward.output()).toContain('"msg":"stopped"');
  });

  it("cuts off calls that do not finish a second before KEYWARD_SHUTDOWN_TIMEOUT_MS, and still exits 0", async () => {
    const rootKey = generateRootKey();
    const keyward = await startKeywardProcess("node", ["dist/src/main.js"], {
      KEYWARD_ROOT_KEY: rootKey,
      KEYWARD_SHUTDOWN_TIMEOUT_MS: "2000",
    });
    // Neither call is ever finished.
    await startSlowCall(keyward.httpPort, rootKey);
    await startSlowGrpcCall(keyward.grpcPort, rootKey);
    const signalled = Date.now();
    // 0, not the 1 of the process's own deadline: the drain deadline came first.
    expect(await keyward.signal("SIGTERM")).toBe(0);
    expect(Date.now() - signalled).toBeGreaterThanOrEqual(900); // the calls had their second
    expect(keyward.output()).toContain('"msg":"stopped"');
  });
});

function connectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(port, "127.0.0.1");
    probe.once("connect", () => {
      probe.destroy();
      resolve(false);
    });
    probe.once("error", () => resolve(true));
  });
}
