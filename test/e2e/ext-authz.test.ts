import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Authorization, type CheckResponse } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { KeyspaceService } from "../../gen/keyward/v1/keyspace_service_pb.js";
import { generateKey } from "../../src/keys/key-material.js";
import { callError, connectRoute, type RouteClient } from "../support/clients.js";
import { checkRequest, type EnvoyFixture } from "../support/envoy-requests.js";
import { startTestKeyward, type TestKeyward } from "../support/keyward.js";
import { sharedRedisUrl } from "../support/redis.js";

const K = KeyService.method;
const { check } = Authorization.method;

let keyward: TestKeyward;
let admin: RouteClient;
/** Envoy's side: the gRPC port, with the root key Envoy's grpc_service sends as initial metadata. */
let envoy: RouteClient;
let key: string;
let keyId: string;

beforeAll(async () => {
  keyward = await startTestKeyward({ REDIS_URL: sharedRedisUrl });
  admin = connectRoute("grpc-js → gRPC port", keyward);
  await admin.call(KeyspaceService.method.createKeyspace, {
    keyspaceId: "docs",
    name: "docs",
    roles: [{ name: "writer", permissions: ["documents.write"] }],
  });
  const { key: verifier } = await admin.call(K.createKey, {
    keyspaceId: "root",
    name: "envoy",
    permissions: ["keyspace.docs.verify_key", "keyspace.default.verify_key"],
  });
  envoy = connectRoute("grpc-js → gRPC port", keyward, verifier);
  ({ key, keyId } = await admin.call(K.createKey, {
    keyspaceId: "docs",
    name: "client",
    ownerId: "acme",
    roles: ["writer"],
  }));
});
afterAll(async () => {
  admin.close();
  envoy.close();
  await keyward.stop();
});

function header(response: CheckResponse, name: string): string | undefined {
  const value = response.httpResponse.value;
  return value?.headers.find((option) => option.header?.key === name)?.header?.value;
}

function denial(response: CheckResponse) {
  expect(response.httpResponse.case).toBe("deniedResponse");
  const denied = response.httpResponse.case === "deniedResponse" ? response.httpResponse.value : undefined;
  return {
    grpc: response.status?.code,
    http: denied?.status?.code,
    body: JSON.parse(denied?.body ?? "{}") as { code: string },
    retryAfter: header(response, "retry-after"),
  };
}

describe("Envoy ext_authz Check", () => {
  it("lets a good key through without its header, naming key, owner and keyspace in headers and metadata", async () => {
    const response = await envoy.call(check, checkRequest("check-request-http1", key));
    expect(response.status?.code).toBe(0);
    expect(response.httpResponse.case).toBe("okResponse");
    const ok = response.httpResponse.case === "okResponse" ? response.httpResponse.value : undefined;
    expect(ok?.headersToRemove).toEqual(["authorization"]);
    expect(header(response, "x-keyward-key-id")).toBe(keyId);
    expect(header(response, "x-keyward-owner-id")).toBe("acme");
    expect(header(response, "x-keyward-keyspace-id")).toBe("docs");
    expect(response.dynamicMetadata).toEqual({ key_id: keyId, owner_id: "acme", keyspace_id: "docs" });
  });

  it("reads raw headers (encode_raw_headers), x-api-key, and per-route context extensions", async () => {
    const response = await envoy.call(check, checkRequest("check-request-raw-headers", key));
    expect(response.status?.code).toBe(0);
    const ok = response.httpResponse.case === "okResponse" ? response.httpResponse.value : undefined;
    expect(ok?.headersToRemove).toEqual(["x-api-key"]);
  });

  it("answers 401 for a missing key and for an unknown one", async () => {
    const missing = checkRequest("check-request-http1", key, (headers) => {
      delete headers.authorization;
    });
    expect(denial(await envoy.call(check, missing))).toMatchObject({
      grpc: Code.Unauthenticated,
      http: 401,
      body: { code: "KEY_MISSING" },
    });
    const unknown = checkRequest("check-request-http1", generateKey("kw", 16));
    expect(denial(await envoy.call(check, unknown))).toMatchObject({
      http: 401,
      body: { code: "VERIFY_CODE_NOT_FOUND" },
    });
  });

  it("answers 403 for revoked, disabled, expired keys and missing permissions", async () => {
    const revoked = await admin.call(K.createKey, { keyspaceId: "docs", name: "revoked" });
    await admin.call(K.revokeKey, { keyId: revoked.keyId });
    const disabled = await admin.call(K.createKey, { keyspaceId: "docs", name: "disabled", enabled: false });
    const expiring = await admin.call(K.createKey, {
      keyspaceId: "docs",
      name: "expiring",
      expiresAt: timestampFromMs(Date.now() + 300),
    });
    await new Promise((resolve) => setTimeout(resolve, 400));
    const reader = await admin.call(K.createKey, { keyspaceId: "docs", name: "reader" });
    for (const [secret, code] of [
      [revoked.key, "VERIFY_CODE_REVOKED"],
      [disabled.key, "VERIFY_CODE_DISABLED"],
      [expiring.key, "VERIFY_CODE_EXPIRED"],
    ]) {
      expect(denial(await envoy.call(check, checkRequest("check-request-http1", secret ?? "")))).toMatchObject({
        grpc: Code.PermissionDenied,
        http: 403,
        body: { code },
      });
    }
    // The raw-headers fixture's route asks for documents.write.
    expect(denial(await envoy.call(check, checkRequest("check-request-raw-headers", reader.key)))).toMatchObject({
      http: 403,
      body: { code: "VERIFY_CODE_INSUFFICIENT_PERMISSIONS" },
    });
  });

  it("answers 429 with retry-after when a rate limit or the credits run out", async () => {
    const limited = await admin.call(K.createKey, {
      keyspaceId: "docs",
      name: "limited",
      ratelimits: [{ name: "requests", limit: 1n, duration: { seconds: 60n } }],
    });
    await envoy.call(check, checkRequest("check-request-http1", limited.key));
    const refused = denial(await envoy.call(check, checkRequest("check-request-http1", limited.key)));
    expect(refused).toMatchObject({
      grpc: Code.ResourceExhausted,
      http: 429,
      body: { code: "VERIFY_CODE_RATE_LIMITED" },
    });
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(60);

    const refilled = await admin.call(K.createKey, {
      keyspaceId: "docs",
      name: "daily",
      remaining: 0n,
      refill: { interval: 1, amount: 10n },
    });
    const spent = denial(await envoy.call(check, checkRequest("check-request-http1", refilled.key)));
    expect(spent).toMatchObject({ http: 429, body: { code: "VERIFY_CODE_USAGE_EXCEEDED" } });
    const untilMidnight = Math.ceil((Math.ceil(Date.now() / 86_400_000) * 86_400_000 - Date.now()) / 1000);
    expect(Math.abs(Number(spent.retryAfter) - untilMidnight)).toBeLessThanOrEqual(2);

    const finite = await admin.call(K.createKey, { keyspaceId: "docs", name: "finite", remaining: 0n });
    const noRefill = denial(await envoy.call(check, checkRequest("check-request-http1", finite.key)));
    expect(noRefill).toMatchObject({ http: 429, retryAfter: undefined });
  });

  it("answers repeated checks from the key's current state and the header it came in", async () => {
    const repeated = await admin.call(K.createKey, {
      keyspaceId: "docs",
      name: "repeated",
      ownerId: "first",
      roles: ["writer"],
    });
    const allowedOwner = async (fixture: EnvoyFixture) => {
      const response = await envoy.call(check, checkRequest(fixture, repeated.key));
      const ok = response.httpResponse.case === "okResponse" ? response.httpResponse.value : undefined;
      return { owner: header(response, "x-keyward-owner-id"), removes: ok?.headersToRemove };
    };
    expect(await allowedOwner("check-request-http1")).toEqual({ owner: "first", removes: ["authorization"] });
    expect(await allowedOwner("check-request-http1")).toEqual({ owner: "first", removes: ["authorization"] });
    expect(await allowedOwner("check-request-raw-headers")).toEqual({ owner: "first", removes: ["x-api-key"] });
    await admin.call(K.updateKey, { keyId: repeated.keyId, updateMask: { paths: ["owner_id"] }, ownerId: "second" });
    expect(await allowedOwner("check-request-http1")).toEqual({ owner: "second", removes: ["authorization"] });
    await admin.call(K.revokeKey, { keyId: repeated.keyId });
    expect(denial(await envoy.call(check, checkRequest("check-request-http1", repeated.key)))).toMatchObject({
      http: 403,
      body: { code: "VERIFY_CODE_REVOKED" },
    });
  });

  it("needs a root key that may verify, like VerifyKey", async () => {
    const anonymous = connectRoute("grpc-js → gRPC port", keyward, "");
    expect(await callError(anonymous.call(check, checkRequest("check-request-http1", key)))).toMatchObject({
      code: Code.Unauthenticated,
    });
    anonymous.close();
    const { key: manager } = await admin.call(K.createKey, {
      keyspaceId: "root",
      name: "no verify",
      permissions: ["keyspace.docs.read_key"],
    });
    const reader = connectRoute("grpc-js → gRPC port", keyward, manager);
    expect(await callError(reader.call(check, checkRequest("check-request-http1", key)))).toMatchObject({
      code: Code.PermissionDenied,
    });
    reader.close();
  });

  it("is served on the gRPC port only", async () => {
    const http = connectRoute("connect → HTTP port", keyward);
    expect((await callError(http.call(check, checkRequest("check-request-http1", key)))).code).toBe(Code.Unimplemented);
    http.close();
  });
});
