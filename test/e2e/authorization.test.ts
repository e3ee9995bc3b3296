import type { DescMethodUnary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditService } from "../../gen/keyward/v1/audit_service_pb.js";
import { VerifyCode } from "../../gen/keyward/v1/key_pb.js";
import { KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { KeyspaceService } from "../../gen/keyward/v1/keyspace_service_pb.js";
import { generateKey } from "../../src/keys/key-material.js";
import { callError, connectRoute, type Route, type RouteClient } from "../support/clients.js";
import { startTestKeyward, type TestKeyward } from "../support/keyward.js";

const K = KeyService.method;
const KS = KeyspaceService.method;

let keyward: TestKeyward;
let admin: RouteClient;
/** Root keys, each standing for one row of the matrix. */
const rootKeys: Record<"revoked" | "expired" | "wrongKeyspace" | "right", string> = {
  revoked: "",
  expired: "",
  wrongKeyspace: "",
  right: "",
};
type Targets = Record<string, { keyId: string; key: string }>;
/** Keys of keyspace alpha, one per RPC that changes a key, so that the last row can change them. */
let targets: Targets = {};

/** Fresh targets, so that each route's last row has keys of its own to change. */
async function createTargets(): Promise<Targets> {
  const created: Targets = {};
  for (const name of ["get", "update", "verify", "revoke", "reroll", "delete", "credits"]) {
    created[name] = await admin.call(K.createKey, { keyspaceId: "alpha", name, remaining: 10n });
  }
  return created;
}

async function createRootKey(name: string, permissions: string[], extra = {}) {
  return admin.call(K.createKey, { keyspaceId: "root", name, permissions, ...extra });
}

beforeAll(async () => {
  keyward = await startTestKeyward();
  admin = connectRoute("grpc-js → gRPC port", keyward);
  for (const keyspaceId of ["alpha", "beta"]) await admin.call(KS.createKeyspace, { keyspaceId, name: keyspaceId });
  const revoked = await createRootKey("revoked", ["keyspace.alpha.*"]);
  await admin.call(K.revokeKey, { keyId: revoked.keyId });
  rootKeys.revoked = revoked.key;
  rootKeys.expired = (
    await createRootKey("expiring", ["keyspace.alpha.*"], { expiresAt: timestampFromMs(Date.now() + 1_000) })
  ).key;
  rootKeys.wrongKeyspace = (await createRootKey("beta only", ["keyspace.beta.*"])).key;
  rootKeys.right = (await createRootKey("alpha", ["keyspace.alpha.*", "keyspace.*.create"])).key;
  targets = await createTargets();
  await new Promise((resolve) => setTimeout(resolve, 1_100)); // let the expiring root key expire
});
afterAll(async () => {
  admin.close();
  await keyward.stop();
});

/** Every RPC that needs a root key, aimed at keyspace alpha. */
const rpcs: [string, DescMethodUnary, () => object][] = [
  ["CreateKey", K.createKey, () => ({ keyspaceId: "alpha", name: "new" })],
  ["GetKey", K.getKey, () => ({ keyId: targets.get?.keyId })],
  ["ListKeys", K.listKeys, () => ({ keyspaceId: "alpha" })],
  [
    "UpdateKey",
    K.updateKey,
    () => ({ keyId: targets.update?.keyId, updateMask: { paths: ["name"] }, name: "changed" }),
  ],
  ["VerifyKey", K.verifyKey, () => ({ key: targets.verify?.key })],
  ["RevokeKey", K.revokeKey, () => ({ keyId: targets.revoke?.keyId })],
  ["RerollKey", K.rerollKey, () => ({ keyId: targets.reroll?.keyId })],
  ["DeleteKey", K.deleteKey, () => ({ keyId: targets.delete?.keyId })],
  ["UpdateCredits", K.updateCredits, () => ({ keyId: targets.credits?.keyId, operation: { case: "add", value: 5n } })],
  [
    "CreateKeyspace",
    KS.createKeyspace,
    () => ({ keyspaceId: `alpha-${targets.get?.keyId.slice(-6).toLowerCase()}`, name: "new" }),
  ],
  ["GetKeyspace", KS.getKeyspace, () => ({ keyspaceId: "alpha" })],
  ["ListKeyspaces", KS.listKeyspaces, () => ({})],
  [
    "UpdateKeyspace",
    KS.updateKeyspace,
    () => ({ keyspaceId: "alpha", updateMask: { paths: ["description"] }, description: "changed" }),
  ],
  ["ListAuditEvents", AuditService.method.listAuditEvents, () => ({ keyspaceId: "alpha" })],
];

/**
 * Everything keyspace alpha holds, as the bootstrap root key sees it; but for
 * usage counts, which earlier (allowed) verifications write back on their own
 * schedule.
 */
async function alphaState() {
  const [keys, keyspace] = await Promise.all([
    admin.call(K.listKeys, { keyspaceId: "alpha", pageSize: 1000 }),
    admin.call(KS.getKeyspace, { keyspaceId: "alpha" }),
  ]);
  return { keys: keys.keys.map(({ usage, lastUsedAt, ...key }) => key), keyspace: keyspace.keyspace };
}

const malformed = "Bearer not-a-key";

function keyspaceIds(response: unknown): string[] {
  return (response as { keyspaces: { keyspaceId: string }[] }).keyspaces.map((keyspace) => keyspace.keyspaceId);
}
const unknown = () => `Bearer ${generateKey("kw_root", 32)}`;
const bearer = (key: string) => `Bearer ${key}`;

describe.each(["grpc-js → gRPC port", "connect → HTTP port"] as Route[])("authorization over %s", (route) => {
  let client: RouteClient;
  beforeAll(async () => {
    client = connectRoute(route, keyward, "");
    targets = await createTargets();
  });
  afterAll(() => client.close());

  describe.each(rpcs)("%s", (_, method, request) => {
    const send = (authorization?: string) =>
      client.call(method, request() as never, authorization === undefined ? {} : { authorization });

    it.each([
      ["no root key", undefined, "missing root key: send authorization: Bearer <root key>"],
      ["a malformed root key", malformed, "invalid root key"],
      ["an unknown root key", "unknown", "invalid root key"],
      ["a revoked root key", "revoked", "invalid root key"],
      ["an expired root key", "expired", "invalid root key"],
      ["not a Bearer header", "Basic dXNlcjpwYXNz", "invalid root key"],
    ])("refuses %s with UNAUTHENTICATED and changes nothing", async (_, which, message) => {
      const authorization =
        which === "unknown" ? unknown() : which === "revoked" || which === "expired" ? bearer(rootKeys[which]) : which;
      const before = await alphaState();
      expect(await callError(send(authorization))).toEqual({ code: Code.Unauthenticated, message });
      expect(await alphaState()).toEqual(before);
    });

    it("refuses a root key of another keyspace and changes nothing", async () => {
      const before = await alphaState();
      const outcome = await send(bearer(rootKeys.wrongKeyspace)).then(
        (response) => ({ response: response as unknown }),
        (error: unknown) => ({ error: ConnectError.from(error) }),
      );
      if (method === K.verifyKey) {
        // A key of a keyspace the caller may not verify in is as good as missing.
        expect(outcome).toMatchObject({ response: { valid: false, code: VerifyCode.NOT_FOUND, keyId: "" } });
      } else if (method === KS.listKeyspaces) {
        // Listing shows only what the caller may read.
        expect("response" in outcome && keyspaceIds(outcome.response)).toEqual(["beta"]);
      } else {
        expect(outcome).toMatchObject({ error: { code: Code.PermissionDenied } });
      }
      expect(await alphaState()).toEqual(before);
    });

    it("serves a root key with the permission", async () => {
      const response = await send(bearer(rootKeys.right));
      expect(response).toBeDefined();
      if (method === K.verifyKey) expect(response).toMatchObject({ valid: true, code: VerifyCode.VALID });
      if (method === KS.listKeyspaces) {
        expect(keyspaceIds(response).every((keyspaceId) => keyspaceId.startsWith("alpha"))).toBe(true);
      }
    });
  });
});

describe("a caller without rights learns nothing about the target", () => {
  it("cannot tell a missing key from another keyspace's key", async () => {
    const outsider = connectRoute("grpc-js → gRPC port", keyward, rootKeys.wrongKeyspace);
    const missing = "key_01ZZZZZZZZZZZZZZZZZZZZZZZZ";
    for (const method of [K.getKey, K.revokeKey, K.rerollKey, K.deleteKey]) {
      const forbidden = await callError(outsider.call(method, { keyId: targets.get?.keyId } as never));
      expect(await callError(outsider.call(method, { keyId: missing } as never))).toEqual(forbidden);
      expect(forbidden).toEqual({ code: Code.PermissionDenied, message: "permission denied" });
    }
    const foreign = await outsider.call(K.verifyKey, { key: targets.get?.key ?? "" });
    const nobody = await outsider.call(K.verifyKey, { key: generateKey("kw", 16) });
    expect(foreign).toEqual(nobody);
    outsider.close();
  });

  it("is refused before any lookup when it may not take the action anywhere", async () => {
    const { key } = await createRootKey("reader", ["keyspace.alpha.read_key"]);
    const reader = connectRoute("grpc-js → gRPC port", keyward, key);
    expect(await callError(reader.call(K.verifyKey, { key: targets.verify?.key ?? "" }))).toEqual({
      code: Code.PermissionDenied,
      message: "permission denied",
    });
    reader.close();
  });

  it("gets NOT_FOUND for a missing key only when it could see every key", async () => {
    const missing = { keyId: "key_01ZZZZZZZZZZZZZZZZZZZZZZZZ" };
    expect(await callError(admin.call(K.getKey, missing))).toEqual({ code: Code.NotFound, message: "key not found" });
    const { key } = await createRootKey("reads everything but root keys", ["keyspace.*.read_key"]);
    const wide = connectRoute("grpc-js → gRPC port", keyward, key);
    expect(await callError(wide.call(K.getKey, missing))).toMatchObject({ code: Code.PermissionDenied });
    wide.close();
  });
});
