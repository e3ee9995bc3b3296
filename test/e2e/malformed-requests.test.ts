import { gzipSync } from "node:zlib";
import { create, type JsonObject, toBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CreateKeyRequestSchema, GetKeyRequestSchema, KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { generateRootKey } from "../../src/composition/bootstrap.js";
import { connectRoute, ROUTES } from "../support/clients.js";
import { startTestKeyward, type TestKeyward } from "../support/keyward.js";
import { startKeywardProcess } from "../support/process.js";
import { connectCall, envelope, grpcCall, grpcWebCall, type RawAnswer } from "../support/raw-calls.js";

let keyward: TestKeyward;
let authorization: Record<string, string>;
beforeAll(async () => {
  keyward = await startTestKeyward();
  authorization = { authorization: `Bearer ${keyward.rootKey}` };
});
afterAll(async () => {
  await keyward.stop();
});

const GET_KEY = "/keyward.v1.KeyService/GetKey";
const CREATE_KEY = "/keyward.v1.KeyService/CreateKey";

/** A GetKey for a key that does not exist: well formed, answered NOT_FOUND. */
const getKey = toBinary(GetKeyRequestSchema, create(GetKeyRequestSchema, { keyId: "key_01ZZZZZZZZZZZZZZZZZZZZZZZZ" }));
/** Bytes that are no protobuf message at all (an illegal tag). */
const undecodable = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]);
/** GetKeyRequest.key_id holding bytes that are not UTF-8. */
const invalidUtf8 = Buffer.from([0x0a, 0x04, 0xff, 0xfe, 0x00, 0x41]);
/** A CreateKey whose `meta` Struct is nested 200 deep (protobuf-es reads 100 at most). */
const deepMeta = (() => {
  let meta: JsonObject = { leaf: true };
  for (let i = 0; i < 200; i++) meta = { a: meta };
  return { meta, json: JSON.stringify({ name: "deep", meta }) };
})();
const deeplyNested = toBinary(
  CreateKeyRequestSchema,
  create(CreateKeyRequestSchema, { name: "deep", meta: deepMeta.meta }),
);
/** A gzip stream cut short: the decompressor runs out of input (not a format error). */
const truncatedGzip = gzipSync(getKey).subarray(0, 12);

const INVALID = { code: Code.InvalidArgument };

describe("issue 9 item 11g: malformed bodies on the HTTP port get a caller's error, never INTERNAL", () => {
  it.each([
    ["Connect proto: undecodable bytes", GET_KEY, "application/proto", {}, undecodable],
    ["Connect proto: a Struct nested 200 deep", CREATE_KEY, "application/proto", {}, deeplyNested],
    ["Connect proto: a string field that is not UTF-8", GET_KEY, "application/proto", {}, invalidUtf8],
    [
      "Connect proto: a gzip body cut short",
      GET_KEY,
      "application/proto",
      { "content-encoding": "gzip" },
      truncatedGzip,
    ],
    ["Connect JSON: a Struct nested 200 deep", CREATE_KEY, "application/json", {}, deepMeta.json],
    ["Connect JSON: not JSON", CREATE_KEY, "application/json", {}, "{nope"],
  ])("issue 9 item 11g: %s → INVALID_ARGUMENT", async (_, path, contentType, headers, body) => {
    const answer = await connectCall(keyward.httpPort, {
      path,
      headers: { ...authorization, "content-type": contentType, ...headers },
      body,
    });
    expect(answer).toMatchObject(INVALID);
  });

  it.each([
    ["message=!!! is not base64", "base64=1&message=%21%21%21"],
    ["message is base64 of undecodable bytes", `base64=1&message=${undecodable.toString("base64url")}`],
    ["message is a gzip body cut short", `base64=1&compression=gzip&message=${truncatedGzip.toString("base64url")}`],
  ])("issue 9 item 11g: Connect GET where %s → INVALID_ARGUMENT", async (_, query) => {
    const answer = await connectCall(keyward.httpPort, {
      method: "GET",
      path: `${GET_KEY}?connect=v1&encoding=proto&${query}`,
      headers: authorization,
    });
    expect(answer).toMatchObject(INVALID);
  });

  it.each([
    ["undecodable bytes", GET_KEY, envelope(undecodable), {}],
    ["a Struct nested 200 deep", CREATE_KEY, envelope(deeplyNested), {}],
    ["a string field that is not UTF-8", GET_KEY, envelope(invalidUtf8), {}],
    ["the compressed flag without a grpc-encoding", GET_KEY, envelope(getKey, 1), {}],
    ["a gzip message cut short", GET_KEY, envelope(truncatedGzip, 1), { "grpc-encoding": "gzip" }],
  ])("issue 9 item 11g: gRPC-Web: %s → INVALID_ARGUMENT", async (_, path, body, headers) => {
    expect(await grpcWebCall(keyward.httpPort, path, body, { ...authorization, ...headers })).toMatchObject(INVALID);
  });

  it.each([
    ["undecodable bytes", GET_KEY, envelope(undecodable), {}],
    ["a Struct nested 200 deep", CREATE_KEY, envelope(deeplyNested), {}],
    ["a string field that is not UTF-8", GET_KEY, envelope(invalidUtf8), {}],
    ["the compressed flag without a grpc-encoding", GET_KEY, envelope(getKey, 1), {}],
    ["a gzip message cut short", GET_KEY, envelope(truncatedGzip, 1), { "grpc-encoding": "gzip" }],
  ])("issue 9 item 11g: gRPC over h2c: %s → INVALID_ARGUMENT", async (_, path, body, headers) => {
    expect(await grpcCall(keyward.httpPort, path, body, { ...authorization, ...headers })).toMatchObject(INVALID);
  });

  it("issue 9 item 11g: an unsupported compression is UNIMPLEMENTED, as the gRPC compression spec says", async () => {
    const headers = { ...authorization, "grpc-encoding": "zstd" };
    expect(await grpcCall(keyward.httpPort, GET_KEY, envelope(getKey, 1), headers)).toMatchObject({
      code: Code.Unimplemented,
    });
    expect(await grpcWebCall(keyward.httpPort, GET_KEY, envelope(getKey, 1), headers)).toMatchObject({
      code: Code.Unimplemented,
    });
  });

  it("issue 9 item 11g: the same bytes name the same field on both ports", async () => {
    const expected: RawAnswer = { code: Code.InvalidArgument, message: "key_id: not valid UTF-8" };
    expect(await grpcCall(keyward.grpcPort, GET_KEY, envelope(invalidUtf8), authorization)).toEqual(expected);
    expect(await grpcCall(keyward.httpPort, GET_KEY, envelope(invalidUtf8), authorization)).toEqual(expected);
    expect(await grpcWebCall(keyward.httpPort, GET_KEY, envelope(invalidUtf8), authorization)).toEqual(expected);
    const connect = await connectCall(keyward.httpPort, {
      path: GET_KEY,
      headers: { ...authorization, "content-type": "application/proto" },
      body: invalidUtf8,
    });
    expect(connect).toEqual(expected);
  });

  it("issue 9 item 11g: well-formed requests still go through on every protocol", async () => {
    const notFound = { code: Code.NotFound };
    const proto = { ...authorization, "content-type": "application/proto" };
    expect(await connectCall(keyward.httpPort, { path: GET_KEY, headers: proto, body: getKey })).toMatchObject(
      notFound,
    );
    const gzipped = { ...proto, "content-encoding": "gzip" };
    expect(
      await connectCall(keyward.httpPort, { path: GET_KEY, headers: gzipped, body: gzipSync(getKey) }),
    ).toMatchObject(notFound);
    const query = `connect=v1&encoding=proto&base64=1&message=${Buffer.from(getKey).toString("base64url")}`;
    expect(
      await connectCall(keyward.httpPort, { method: "GET", path: `${GET_KEY}?${query}`, headers: authorization }),
    ).toMatchObject(notFound);
    const compressed = envelope(gzipSync(getKey), 1);
    const gzipHeaders = { ...authorization, "grpc-encoding": "gzip" };
    expect(await grpcWebCall(keyward.httpPort, GET_KEY, compressed, gzipHeaders)).toMatchObject(notFound);
    expect(await grpcCall(keyward.httpPort, GET_KEY, compressed, gzipHeaders)).toMatchObject(notFound);
    for (const route of ROUTES) {
      const client = connectRoute(route, keyward);
      const { keys } = await client.call(KeyService.method.listKeys, {});
      client.close();
      expect(keys.length, route).toBeGreaterThan(0);
    }
  });
});

describe("issue 9 item 11g: the gRPC port answers the same bytes with a caller's error", () => {
  it.each([
    ["undecodable bytes", GET_KEY, envelope(undecodable), INVALID],
    ["a Struct nested 200 deep", CREATE_KEY, envelope(deeplyNested), INVALID],
    ["a string field that is not UTF-8", GET_KEY, envelope(invalidUtf8), INVALID],
    // grpc-js reads a message flagged compressed under no grpc-encoding as it is.
    ["the compressed flag without a grpc-encoding", GET_KEY, envelope(getKey, 1), { code: Code.NotFound }],
  ])("issue 9 item 11g: %s", async (_, path, body, expected) => {
    expect(await grpcCall(keyward.grpcPort, path, body, authorization)).toMatchObject(expected);
  });
});

describe("issue 9 item 11g: requests connect-node cannot take in", () => {
  it("issue 9 item 11g: an unparsable authority or Host, on either protocol, does not bring Keyward down", async () => {
    const rootKey = generateRootKey();
    const process = await startKeywardProcess("node", ["dist/src/main.js"], { KEYWARD_ROOT_KEY: rootKey });
    const listKeys = "/keyward.v1.KeyService/ListKeys";
    const failed = (error: unknown) => ({ failed: String(error) });
    try {
      // HTTP/1.1 with a Host that is no host.
      const http1 = await connectCall(process.httpPort, {
        path: listKeys,
        headers: { host: "a b", authorization: `Bearer ${rootKey}`, "content-type": "application/json" },
        body: "{}",
      }).catch(failed);
      // HTTP/2 with an IPv6 authority without brackets, as Node's own client sends it.
      const http2 = await grpcCall(process.httpPort, listKeys, envelope(new Uint8Array()), {
        ":authority": "::1:8080",
        authorization: `Bearer ${rootKey}`,
      }).catch(failed);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(process.child.exitCode, process.output()).toBeNull();
      expect(http1).toEqual({ code: "ok", message: "" });
      expect(http2).toEqual({ code: "ok", message: "" });
    } finally {
      await process.signal("SIGTERM");
    }
  });
});
