import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { type CallError, callError, connectRoute, ROUTES, type RouteClient } from "../support/clients.js";
import { startTestKeyward, type TestKeyward } from "../support/keyward.js";

const { createKey, getKey, listKeys, updateKey, verifyKey, revokeKey, rerollKey, deleteKey } = KeyService.method;

let keyward: TestKeyward;
let clients: RouteClient[];
let grpc: RouteClient;
let existingKeyId: string;

beforeAll(async () => {
  keyward = await startTestKeyward();
  clients = ROUTES.map((route) => connectRoute(route, keyward));
  grpc = connectRoute("grpc-js → gRPC port", keyward);
  existingKeyId = (await grpc.call(createKey, { name: "already here", remaining: 10n })).keyId;
});
afterAll(async () => {
  for (const client of [...clients, grpc]) client.close();
  await keyward.stop();
});

/** Everything the store holds, through the API. */
async function snapshot() {
  return (await grpc.call(listKeys, { pageSize: 1000 })).keys;
}

/** Sends the same request on every route; all must fail alike. */
async function failEverywhere(send: (client: RouteClient) => Promise<unknown>): Promise<CallError> {
  const before = await snapshot();
  const [first, ...others] = await Promise.all(clients.map((client) => callError(send(client))));
  for (const [i, error] of others.entries()) expect(error, ROUTES[i + 1]).toEqual(first);
  expect(await snapshot(), "storage must be unchanged").toEqual(before);
  return first as CallError;
}

const text = (length: number) => "x".repeat(length);

describe("bad input gets INVALID_ARGUMENT naming the field, the same on every route, and changes nothing", () => {
  it.each([
    ["VerifyKey with an empty key", "key", () => ({ method: verifyKey, request: { key: "" } })],
    ["VerifyKey with a 10 KB key", "key", () => ({ method: verifyKey, request: { key: text(10_240) } })],
    ["CreateKey with an empty name", "name", () => ({ method: createKey, request: { name: "" } })],
    ["CreateKey with a 101-character name", "name", () => ({ method: createKey, request: { name: text(101) } })],
    [
      "CreateKey with a 256-character description",
      "description",
      () => ({ method: createKey, request: { name: "n", description: text(256) } }),
    ],
    [
      "CreateKey with byte_length 8",
      "byte_length",
      () => ({ method: createKey, request: { name: "n", byteLength: 8 } }),
    ],
    [
      "CreateKey with byte_length 1000",
      "byte_length",
      () => ({ method: createKey, request: { name: "n", byteLength: 1000 } }),
    ],
    [
      "CreateKey with an expiry in the past",
      "expires_at",
      () => ({ method: createKey, request: { name: "n", expiresAt: timestampFromMs(Date.now() - 60_000) } }),
    ],
    [
      "CreateKey with a prefix that is not letters and digits",
      "prefix",
      () => ({ method: createKey, request: { name: "n", prefix: "bad prefix!" } }),
    ],
    [
      "CreateKey with negative credits",
      "remaining",
      () => ({ method: createKey, request: { name: "n", remaining: -1n } }),
    ],
    [
      "CreateKey with two rate limits of one name",
      "ratelimits",
      () => ({
        method: createKey,
        request: {
          name: "n",
          ratelimits: [
            { name: "requests", limit: 1n, duration: { seconds: 1n } },
            { name: "requests", limit: 2n, duration: { seconds: 1n } },
          ],
        },
      }),
    ],
    [
      "GetKey with garbage in the key id",
      "key_id",
      () => ({ method: getKey, request: { keyId: "\u0000\u00ff\u0007garbage" } }),
    ],
    ["GetKey with an empty key id", "key_id", () => ({ method: getKey, request: { keyId: "" } })],
    ["RevokeKey with garbage in the key id", "key_id", () => ({ method: revokeKey, request: { keyId: "'; drop" } })],
    [
      "UpdateKey without an update mask",
      "update_mask",
      () => ({ method: updateKey, request: { keyId: existingKeyId, name: "x" } }),
    ],
    [
      "UpdateKey with a field the mask may not name",
      "update_mask",
      () => ({ method: updateKey, request: { keyId: existingKeyId, updateMask: { paths: ["key_id"] } } }),
    ],
    [
      "UpdateKey clearing the name",
      "name",
      () => ({ method: updateKey, request: { keyId: existingKeyId, updateMask: { paths: ["name"] } } }),
    ],
    [
      "RerollKey with a grace period over 30 days",
      "grace_period",
      () => ({ method: rerollKey, request: { keyId: existingKeyId, gracePeriod: { seconds: 31n * 86_400n } } }),
    ],
    [
      "ListKeys with a forged page token",
      "page_token",
      () => ({ method: listKeys, request: { pageToken: "bm90LWEtdG9rZW4" } }),
    ],
    ["ListKeys with a page of 5000", "page_size", () => ({ method: listKeys, request: { pageSize: 5000 } })],
    [
      "CreateKey with 20 KB of meta",
      "meta",
      () => ({ method: createKey, request: { name: "n", meta: { notes: text(20_000) } } }),
    ],
    [
      "UpdateKey with 20 KB of meta",
      "meta",
      () => ({
        method: updateKey,
        request: { keyId: existingKeyId, updateMask: { paths: ["meta"] }, meta: { notes: text(20_000) } },
      }),
    ],
  ])("%s → %s", async (_, field, build) => {
    const { method, request } = build();
    const error = await failEverywhere((client) => client.call(method as never, request as never));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.message).toContain(field);
  });
});

describe("an oversized request", () => {
  it("is RESOURCE_EXHAUSTED on every route before it is decoded, and changes nothing", async () => {
    const before = await snapshot();
    // Clients of its own: the server drops a connection whose request it will not read.
    for (const route of ROUTES) {
      const client = connectRoute(route, keyward);
      const error = await callError(client.call(createKey, { name: "n", description: text(2_000_000) }));
      client.close();
      // Over HTTP/1.1 the gRPC-Web client may still be sending when the server answers and closes
      // the connection; it then sees the reset instead of the answer.
      const seen = route === "connect gRPC-Web → HTTP port" ? [Code.ResourceExhausted, Code.Aborted] : [];
      expect([Code.ResourceExhausted, ...seen], route).toContain(error.code);
    }
    expect(await snapshot()).toEqual(before);
  });
});

describe("an unknown key id is NOT_FOUND everywhere and changes nothing", () => {
  const unknown = "key_01ZZZZZZZZZZZZZZZZZZZZZZZZ";
  it.each([
    ["GetKey", () => ({ method: getKey, request: { keyId: unknown } })],
    [
      "UpdateKey",
      () => ({ method: updateKey, request: { keyId: unknown, updateMask: { paths: ["name"] }, name: "x" } }),
    ],
    ["RevokeKey", () => ({ method: revokeKey, request: { keyId: unknown } })],
    ["RerollKey", () => ({ method: rerollKey, request: { keyId: unknown } })],
    ["DeleteKey", () => ({ method: deleteKey, request: { keyId: unknown } })],
  ])("%s", async (_, build) => {
    const { method, request } = build();
    expect(await failEverywhere((client) => client.call(method as never, request as never))).toEqual({
      code: Code.NotFound,
      message: "key not found",
    });
  });
});

describe("garbage bytes (invalid UTF-8) in a key id", () => {
  // Field 1 (key_id), length 4, bytes that are not UTF-8. No client library will
  // encode this, so the bytes are written by hand.
  const garbage = Buffer.from([0x0a, 0x04, 0xff, 0xfe, 0x00, 0x41]);

  it("is INVALID_ARGUMENT naming key_id on the gRPC port", async () => {
    const { Client, credentials, Metadata } = await import("@grpc/grpc-js");
    const client = new Client(`127.0.0.1:${keyward.grpcPort}`, credentials.createInsecure());
    const error = await new Promise<{ code: number; details: string }>((resolve) =>
      client.makeUnaryRequest(
        "/keyward.v1.KeyService/GetKey",
        (bytes: Buffer) => bytes,
        (bytes: Buffer) => bytes,
        garbage,
        new Metadata(),
        (failure) => resolve(failure as never),
      ),
    );
    client.close();
    expect(error).toMatchObject({ code: Code.InvalidArgument, details: "key_id: not valid UTF-8" });
  });

  it("issue 9 item 11g: is INVALID_ARGUMENT naming key_id on the HTTP port too, changing nothing", async () => {
    const before = await snapshot();
    const response = await fetch(`http://127.0.0.1:${keyward.httpPort}/keyward.v1.KeyService/GetKey`, {
      method: "POST",
      headers: { "content-type": "application/proto" },
      body: garbage,
    });
    expect(await response.json()).toEqual({ code: "invalid_argument", message: "key_id: not valid UTF-8" });
    expect(await snapshot()).toEqual(before);
  });
});
