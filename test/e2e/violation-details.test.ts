import { create, type DescMethodUnary, fromBinary, toBinary, toJson } from "@bufbuild/protobuf";
import { ViolationsSchema } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { Code, ConnectError } from "@connectrpc/connect";
import { Client, credentials, Metadata, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditService } from "../../gen/keyward/v1/audit_service_pb.js";
import { CreateKeyRequestSchema, KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { KeyspaceService } from "../../gen/keyward/v1/keyspace_service_pb.js";
import { callError, connectRoute, type RouteClient } from "../support/clients.js";
import { startTestKeyward, type TestKeyward } from "../support/keyward.js";

/**
 * Issue 9 item 9: one CreateKey of 603 bytes (200 empty rate limits, each
 * breaking three rules) used to make an error-details trailer over Node's
 * 64 KiB header limit. The call hung and every other call on its HTTP/2
 * connection failed; over Connect JSON it answered ~450 KB.
 */
const badRequest = create(CreateKeyRequestSchema, { name: "n", ratelimits: Array.from({ length: 200 }, () => ({})) });
/** Hundreds of violations inside every max_items bound: 100 empty scopes, roles and permissions, 10 empty rate limits. */
const manyViolations = create(CreateKeyRequestSchema, {
  name: "n",
  scopes: Array.from({ length: 100 }, () => ""),
  roles: Array.from({ length: 100 }, () => ""),
  permissions: Array.from({ length: 100 }, () => ""),
  ratelimits: Array.from({ length: 10 }, () => ({})),
});
/** How large the details of one refusal may be, as the transport sends them (bytes of the encoded Violations). */
const DETAILS_BUDGET = 2_048;
/** How long a call that is answered at all takes here, with room for a slow CI machine. */
const PROMPTLY_MS = 2_000;

let keyward: TestKeyward;
let admin: RouteClient;
/** A root key without a single permission. */
let powerless: string;

beforeAll(async () => {
  keyward = await startTestKeyward();
  admin = connectRoute("grpc-js → gRPC port", keyward);
  ({ key: powerless } = await admin.call(KeyService.method.createKey, { keyspaceId: "root", name: "no rights" }));
});
afterAll(async () => {
  admin.close();
  await keyward.stop();
});

interface Outcome {
  readonly code: number;
  readonly message: string;
  /** The grpc-status-details-bin trailer, decoded. */
  readonly details?: Buffer | undefined;
  readonly ms: number;
}

/** A unary call over a grpc-js client (one HTTP/2 connection), bytes in, with a deadline. */
function grpcCall(client: Client, path: string, request: Uint8Array, rootKey: string): Promise<Outcome> {
  const metadata = new Metadata();
  metadata.set("authorization", `Bearer ${rootKey}`);
  const started = performance.now();
  return new Promise((resolve) =>
    client.makeUnaryRequest(
      path,
      (bytes: Uint8Array) => Buffer.from(bytes),
      (bytes: Buffer) => bytes,
      request,
      metadata,
      { deadline: Date.now() + 5_000 },
      (error: ServiceError | null) => {
        const details = error?.metadata?.get("grpc-status-details-bin")[0];
        resolve({
          code: error?.code ?? 0,
          message: error?.details ?? "",
          details: details instanceof Buffer ? details : undefined,
          ms: performance.now() - started,
        });
      },
    ),
  );
}

const createKeyPath = "/keyward.v1.KeyService/CreateKey";
const listKeyspacesPath = "/keyward.v1.KeyspaceService/ListKeyspaces";

describe("issue 9 item 9: one bad request cannot stall its connection", () => {
  it("is the 603-byte request of the report", () => {
    expect(toBinary(CreateKeyRequestSchema, badRequest).length).toBe(603);
  });

  it("issue 9 item 9: a root key without permissions gets PERMISSION_DENIED, unvalidated; the gRPC connection keeps serving", async () => {
    const client = new Client(`127.0.0.1:${keyward.grpcPort}`, credentials.createInsecure());
    const bad = toBinary(CreateKeyRequestSchema, badRequest);
    // The bad request and a good one at once, then another good one: all on one connection.
    const [refused, concurrent] = await Promise.all([
      grpcCall(client, createKeyPath, bad, powerless),
      grpcCall(client, listKeyspacesPath, new Uint8Array(), keyward.rootKey),
    ]);
    const after = await grpcCall(client, listKeyspacesPath, new Uint8Array(), keyward.rootKey);
    client.close();
    expect(refused).toMatchObject({ code: Code.PermissionDenied, message: "permission denied", details: undefined });
    expect(concurrent.code, concurrent.message).toBe(0);
    expect(after.code, after.message).toBe(0);
    expect(Math.max(refused.ms, concurrent.ms, after.ms)).toBeLessThan(PROMPTLY_MS);
  });

  it.each([
    ["the 603-byte request", badRequest, /^ratelimits: /],
    ["hundreds of violations within the bounds", manyViolations, /\d+ left out/],
  ])(
    "issue 9 item 9: the bootstrap root key gets INVALID_ARGUMENT with bounded details for %s; the gRPC connection keeps serving",
    async (_, request, message) => {
      const client = new Client(`127.0.0.1:${keyward.grpcPort}`, credentials.createInsecure());
      const bad = toBinary(CreateKeyRequestSchema, request);
      const [refused, concurrent] = await Promise.all([
        grpcCall(client, createKeyPath, bad, keyward.rootKey),
        grpcCall(client, listKeyspacesPath, new Uint8Array(), keyward.rootKey),
      ]);
      const after = await grpcCall(client, listKeyspacesPath, new Uint8Array(), keyward.rootKey);
      client.close();
      expect(refused.code, refused.message).toBe(Code.InvalidArgument);
      expect(refused.message).toMatch(message);
      expect(concurrent.code, concurrent.message).toBe(0);
      expect(after.code, after.message).toBe(0);
      expect(Math.max(refused.ms, concurrent.ms, after.ms)).toBeLessThan(PROMPTLY_MS);
      // The trailer holds a google.rpc.Status whose one detail is the (shortened) violations.
      expect(refused.details?.length).toBeGreaterThan(0);
      expect(refused.details?.length).toBeLessThan(DETAILS_BUDGET + 1_024);
    },
  );
});

describe("issue 9 item 9: over the HTTP port", () => {
  const post = (rootKey: string, request = badRequest) =>
    fetch(`http://127.0.0.1:${keyward.httpPort}/keyward.v1.KeyService/CreateKey`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${rootKey}` },
      body: JSON.stringify(toJson(CreateKeyRequestSchema, request)),
    });

  it("issue 9 item 9: Connect JSON: PERMISSION_DENIED for a root key without permissions", async () => {
    const refused = await post(powerless);
    expect(await refused.json()).toEqual({ code: "permission_denied", message: "permission denied" });
  });

  it.each([
    ["the 603-byte request", badRequest, /^ratelimits: /],
    ["hundreds of violations within the bounds", manyViolations, /\d+ left out/],
  ])(
    "issue 9 item 9: Connect JSON: a few KB of INVALID_ARGUMENT for %s from the bootstrap key",
    async (_, request, message) => {
      const invalid = await post(keyward.rootKey, request);
      const body = await invalid.text();
      expect(body.length).toBeLessThan(8_192);
      const answer = JSON.parse(body) as { code: string; message: string; details: { type: string; value: string }[] };
      expect(answer.code).toBe("invalid_argument");
      expect(answer.message).toMatch(message);
      const [detail] = answer.details;
      expect(detail?.type).toBe("buf.validate.Violations");
      const violations = fromBinary(ViolationsSchema, Buffer.from(detail?.value ?? "", "base64"));
      expect(violations.violations.length).toBeGreaterThan(0);
      expect(toBinary(ViolationsSchema, violations).length).toBeLessThanOrEqual(DETAILS_BUDGET);
    },
  );

  it("issue 9 item 9: gRPC over one HTTP/2 connection to the HTTP port: both answers come, and the connection keeps serving", async () => {
    for (const [rootKey, code] of [
      [powerless, Code.PermissionDenied],
      [keyward.rootKey, Code.InvalidArgument],
    ] as const) {
      const client = connectRoute("connect gRPC → HTTP port", keyward, rootKey);
      const started = performance.now();
      const [refused, concurrent] = await Promise.allSettled([
        client.call(KeyService.method.createKey, badRequest),
        client.call(KeyspaceService.method.listKeyspaces, {}, { authorization: `Bearer ${keyward.rootKey}` }),
      ]);
      const after = await client.call(
        KeyspaceService.method.listKeyspaces,
        {},
        { authorization: `Bearer ${keyward.rootKey}` },
      );
      client.close();
      expect(refused.status).toBe("rejected");
      const error = ConnectError.from((refused as PromiseRejectedResult).reason);
      expect(error.code, error.message).toBe(code);
      if (code === Code.InvalidArgument) {
        const details = error.findDetails(ViolationsSchema);
        expect(details).toHaveLength(1);
        expect(toBinary(ViolationsSchema, details[0] ?? create(ViolationsSchema)).length).toBeLessThanOrEqual(
          DETAILS_BUDGET,
        );
      }
      expect(concurrent.status).toBe("fulfilled");
      expect(after.keyspaces.length).toBeGreaterThan(0);
      expect(performance.now() - started).toBeLessThan(PROMPTLY_MS);
    }
  });
});

describe("issue 9 item 9: whether the caller may call the method at all is settled before its request is validated", () => {
  const K = KeyService.method;
  const KS = KeyspaceService.method;
  const invalid: [string, DescMethodUnary, object][] = [
    ["CreateKey", K.createKey, { name: "" }],
    ["GetKey", K.getKey, { keyId: "x" }],
    ["ListKeys", K.listKeys, { pageSize: 5000 }],
    ["UpdateKey", K.updateKey, { keyId: "x" }],
    ["VerifyKey", K.verifyKey, { key: "" }],
    ["RevokeKey", K.revokeKey, { keyId: "x" }],
    ["RerollKey", K.rerollKey, { keyId: "x" }],
    ["DeleteKey", K.deleteKey, { keyId: "x" }],
    ["UpdateCredits", K.updateCredits, { keyId: "x" }],
    ["CreateKeyspace", KS.createKeyspace, { name: "" }],
    ["GetKeyspace", KS.getKeyspace, { keyspaceId: "" }],
    ["ListKeyspaces", KS.listKeyspaces, { pageSize: 5000 }],
    ["UpdateKeyspace", KS.updateKeyspace, { keyspaceId: "" }],
    ["ListAuditEvents", AuditService.method.listAuditEvents, { pageSize: 5000 }],
  ];

  it.each(["grpc-js → gRPC port", "connect → HTTP port"] as const)(
    "issue 9 item 9: a root key without permissions gets PERMISSION_DENIED for an invalid request of every method (%s)",
    async (route) => {
      const client = connectRoute(route, keyward, powerless);
      for (const [name, method, request] of invalid) {
        expect(await callError(client.call(method, request as never)), name).toEqual({
          code: Code.PermissionDenied,
          message: "permission denied",
        });
      }
      client.close();
    },
  );
});
