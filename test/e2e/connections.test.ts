import http2 from "node:http2";
import net from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CreateKeyRequestSchema, KeyService, ListKeysRequestSchema } from "../../gen/keyward/v1/key_service_pb.js";
import { connectRoute } from "../support/clients.js";
import { startTestKeyward, type TestKeyward } from "../support/keyward.js";
import { startKeywardProcess } from "../support/process.js";

const HANDSHAKE_TIMEOUT_MS = 400;
const IDLE_TIMEOUT_MS = 800;
const MAX_CONCURRENT_STREAMS = 250;
/** How late past a timeout a close may come on a busy two-core machine and still count. */
const SLACK_MS = 1_500;

let keyward: TestKeyward;
beforeAll(async () => {
  keyward = await startTestKeyward({
    KEYWARD_HANDSHAKE_TIMEOUT_MS: String(HANDSHAKE_TIMEOUT_MS),
    KEYWARD_IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS),
    KEYWARD_MAX_CONCURRENT_STREAMS: String(MAX_CONCURRENT_STREAMS),
  });
});
afterAll(async () => {
  await keyward.stop();
});

const PORTS = [
  ["gRPC port", () => keyward.grpcPort],
  ["HTTP port", () => keyward.httpPort],
] as const;

/** Opens a TCP connection, writes `bytes` (maybe none) and resolves with how long the server kept it open, or "still open" past `waitMs`. */
async function heldOpenFor(port: number, bytes: string | Buffer, waitMs: number): Promise<number | "still open"> {
  const socket = net.connect(port, "127.0.0.1");
  await new Promise((resolve) => socket.once("connect", resolve));
  const opened = Date.now();
  socket.on("error", () => {});
  socket.resume(); // read (and drop) whatever the server says, e.g. its SETTINGS frame
  if (bytes.length > 0) socket.write(bytes);
  const closed = new Promise<number>((resolve) => socket.once("close", () => resolve(Date.now() - opened)));
  const timer = new Promise<"still open">((resolve) => setTimeout(() => resolve("still open"), waitMs));
  const outcome = await Promise.race([closed, timer]);
  socket.destroy();
  return outcome;
}

/** An h2c session, with a promise for the GOAWAY the server sends and for the session's end. */
async function openSession(port: number) {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on("error", () => {});
  const goaway = new Promise<number>((resolve) => session.once("goaway", () => resolve(Date.now())));
  const closed = new Promise<number>((resolve) => session.once("close", () => resolve(Date.now())));
  await new Promise((resolve) => session.once("remoteSettings", resolve));
  return { session, goaway, closed };
}

/** A gRPC health check (the gRPC port) or GET /healthz (the HTTP port), answered in full. */
function oneCall(session: http2.ClientHttp2Session, port: "gRPC port" | "HTTP port"): Promise<void> {
  const stream =
    port === "gRPC port"
      ? session.request({
          ":method": "POST",
          ":path": "/grpc.health.v1.Health/Check",
          "content-type": "application/grpc",
          te: "trailers",
        })
      : session.request({ ":method": "GET", ":path": "/healthz" });
  stream.end(port === "gRPC port" ? Buffer.from([0, 0, 0, 0, 0]) : undefined);
  stream.resume();
  return new Promise((resolve, reject) => {
    stream.once("close", resolve);
    stream.once("error", reject);
  });
}

describe.each(PORTS)("issue 9 item 8 on the %s", (name, port) => {
  it("issue 9 item 8: a socket that never sends a byte is closed within the handshake timeout", async () => {
    const heldFor = await heldOpenFor(port(), "", HANDSHAKE_TIMEOUT_MS + SLACK_MS);
    expect(heldFor).not.toBe("still open");
    expect(heldFor).toBeGreaterThanOrEqual(HANDSHAKE_TIMEOUT_MS - 50);
  });

  it("issue 9 item 8: a socket that sends part of the HTTP/2 preface and stops is closed within the handshake timeout", async () => {
    const heldFor = await heldOpenFor(port(), "PRI * HTTP/2.0\r\n", HANDSHAKE_TIMEOUT_MS + SLACK_MS);
    expect(heldFor).not.toBe("still open");
  });

  it("issue 9 item 8: a socket that sends the preface but never its SETTINGS is closed within the handshake timeout", async () => {
    const heldFor = await heldOpenFor(port(), "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", HANDSHAKE_TIMEOUT_MS + SLACK_MS);
    expect(heldFor).not.toBe("still open");
  });

  it("issue 9 item 8: an h2c session whose calls are done is sent GOAWAY after the idle timeout", async () => {
    const { session, goaway, closed } = await openSession(port());
    await oneCall(session, name);
    const idleSince = Date.now();
    const outcome = await Promise.race([
      goaway,
      new Promise<"no GOAWAY">((resolve) => setTimeout(() => resolve("no GOAWAY"), IDLE_TIMEOUT_MS + SLACK_MS)),
    ]);
    expect(outcome).not.toBe("no GOAWAY");
    expect((outcome as number) - idleSince).toBeGreaterThanOrEqual(IDLE_TIMEOUT_MS - 50);
    session.close();
    await closed;
  });

  it("issue 9 item 8: a session with a call in flight is not idle, however long the call takes", async () => {
    const { session, goaway } = await openSession(port());
    let goneAway = false;
    void goaway.then(() => {
      goneAway = true;
    });
    // A CreateKey whose last byte is held back for longer than the idle timeout.
    const message = toBinary(CreateKeyRequestSchema, create(CreateKeyRequestSchema, { name: "slow" }));
    const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, message.length]), message]);
    const stream = session.request({
      ":method": "POST",
      ":path": "/keyward.v1.KeyService/CreateKey",
      "content-type": "application/grpc",
      te: "trailers",
      authorization: `Bearer ${keyward.rootKey}`,
    });
    const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once("trailers", resolve));
    stream.resume();
    stream.write(frame.subarray(0, -1));
    await new Promise((resolve) => setTimeout(resolve, IDLE_TIMEOUT_MS * 2));
    expect(goneAway).toBe(false);
    stream.end(frame.subarray(-1));
    expect((await trailers)["grpc-status"]).toBe("0");
    session.close();
  });

  it("issue 9 item 8: the SETTINGS frame advertises the stream cap", async () => {
    const { session } = await openSession(port());
    expect(session.remoteSettings.maxConcurrentStreams).toBe(MAX_CONCURRENT_STREAMS);
    session.close();
  });
});

describe("issue 9 item 8 for HTTP/1.1 on the HTTP port", () => {
  it("issue 9 item 8: a request whose headers never finish is closed within the handshake timeout", async () => {
    const heldFor = await heldOpenFor(
      keyward.httpPort,
      "GET /healthz HTTP/1.1\r\nhost: k",
      HANDSHAKE_TIMEOUT_MS + SLACK_MS,
    );
    expect(heldFor).not.toBe("still open");
  });

  it("issue 9 item 8: a keep-alive connection is closed after the idle timeout, not before", async () => {
    // Node keeps the socket a second past the timeout it advertises in `Keep-Alive: timeout=…`.
    const heldFor = await heldOpenFor(
      keyward.httpPort,
      "GET /healthz HTTP/1.1\r\nhost: keyward\r\n\r\n",
      IDLE_TIMEOUT_MS + 1_000 + SLACK_MS,
    );
    expect(heldFor).not.toBe("still open");
    expect(heldFor).toBeGreaterThanOrEqual(IDLE_TIMEOUT_MS - 50);
  });
});

describe("issue 9 item 8: KEYWARD_MAX_SESSION_MEMORY_MB", () => {
  let small: TestKeyward;
  beforeAll(async () => {
    small = await startTestKeyward({ KEYWARD_MAX_SESSION_MEMORY_MB: "1" });
    const admin = connectRoute("grpc-js → gRPC port", small);
    const meta = { notes: "x".repeat(15_000) };
    await Promise.all(
      Array.from({ length: 100 }, (_, i) => admin.call(KeyService.method.createKey, { name: `k${i}`, meta })),
    );
    admin.close();
  });
  afterAll(async () => {
    await small.stop();
  });

  it.each([
    ["gRPC port", () => small.grpcPort],
    ["HTTP port", () => small.httpPort],
  ])(
    "issue 9 item 8: on the %s, calls past the session's memory are refused, not buffered without end",
    async (_, port) => {
      // The client opens no flow-control window, so each 1.5 MB answer waits in the server's session.
      const session = http2.connect(`http://127.0.0.1:${port()}`, { settings: { initialWindowSize: 0 } });
      session.on("error", () => {});
      const message = toBinary(ListKeysRequestSchema, create(ListKeysRequestSchema, { pageSize: 100 }));
      const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, message.length]), message]);
      const outcomes: string[] = [];
      for (let i = 0; i < 3; i++) {
        const stream = session.request({
          ":method": "POST",
          ":path": "/keyward.v1.KeyService/ListKeys",
          "content-type": "application/grpc",
          te: "trailers",
          authorization: `Bearer ${small.rootKey}`,
        });
        stream.end(frame);
        outcomes.push(
          await new Promise<string>((resolve) => {
            stream.once("response", () => resolve("answered"));
            stream.once("error", () =>
              resolve(
                stream.rstCode === http2.constants.NGHTTP2_ENHANCE_YOUR_CALM ? "refused" : `reset ${stream.rstCode}`,
              ),
            );
          }),
        );
        await new Promise((resolve) => setTimeout(resolve, 200)); // the answer is queued
      }
      session.destroy();
      expect(outcomes).toEqual(["answered", "refused", "refused"]);
    },
  );
});

describe("issue 9 item 8: a connection reset before its handshake", () => {
  it("issue 9 item 8: a connection reset halfway through the HTTP/2 preface does not bring Keyward down", async () => {
    const keyward = await startKeywardProcess("node", ["dist/src/main.js"]);
    try {
      for (const port of [keyward.grpcPort, keyward.httpPort]) {
        const socket = net.connect(port, "127.0.0.1");
        await new Promise((resolve) => socket.once("connect", resolve));
        socket.write("PRI * HTTP");
        await new Promise((resolve) => setTimeout(resolve, 100)); // the server has read the bytes
        socket.resetAndDestroy();
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(keyward.child.exitCode, keyward.output()).toBeNull();
      const response = await fetch(`http://127.0.0.1:${keyward.httpPort}/healthz`);
      expect(response.status).toBe(200);
    } finally {
      await keyward.signal("SIGTERM");
    }
  });
});
