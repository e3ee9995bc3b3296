import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VerifyCode } from "../../gen/keyward/v1/key_pb.js";
import { KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { KeyspaceService } from "../../gen/keyward/v1/keyspace_service_pb.js";
import { callError, connectRoute, ROUTES, type RouteClient } from "../support/clients.js";
import { startTestKeyward, type TestKeyward } from "../support/keyward.js";

const K = KeyService.method;

let keyward: TestKeyward;
let admin: RouteClient;
let key: string;
beforeAll(async () => {
  keyward = await startTestKeyward();
  admin = connectRoute("grpc-js → gRPC port", keyward);
  await admin.call(KeyspaceService.method.createKeyspace, {
    keyspaceId: "docs",
    name: "Documents",
    roles: [
      { name: "editor", permissions: ["documents.read", "documents.write"] },
      { name: "billing", permissions: ["invoices.*"] },
    ],
  });
  ({ key } = await admin.call(K.createKey, {
    keyspaceId: "docs",
    name: "editor key",
    roles: ["editor", "billing", "no-such-role"],
    scopes: ["profile:read"],
    permissions: ["reports.export"],
  }));
});
afterAll(async () => {
  admin.close();
  await keyward.stop();
});

const verify = (permissionQuery: string) => admin.call(K.verifyKey, { key, permissionQuery });

describe("permission queries in VerifyKey", () => {
  it.each([
    ["documents.read", true],
    ["documents.read AND documents.write", true],
    ["documents.read AND (documents.delete OR reports.export)", true],
    ["documents.delete", false],
    ["documents.read AND documents.delete", false],
    ["invoices.pay", true],
    ["profile:read", true],
    ["reports.export AND profile:read AND documents.write", true],
    ["admin OR (documents.delete AND documents.read)", false],
  ])("%s → %s", async (query, holds) => {
    expect(await verify(query)).toMatchObject({
      valid: holds,
      code: holds ? VerifyCode.VALID : VerifyCode.INSUFFICIENT_PERMISSIONS,
    });
  });

  it("checks revocation before permissions", async () => {
    const { keyId, key: revoked } = await admin.call(K.createKey, { keyspaceId: "docs", name: "r", roles: ["editor"] });
    await admin.call(K.revokeKey, { keyId });
    expect(await admin.call(K.verifyKey, { key: revoked, permissionQuery: "documents.delete" })).toMatchObject({
      code: VerifyCode.REVOKED,
    });
  });

  it("takes no credit when the permissions fall short", async () => {
    const { key: metered, keyId } = await admin.call(K.createKey, { keyspaceId: "docs", name: "m", remaining: 1n });
    const refused = await admin.call(K.verifyKey, { key: metered, permissionQuery: "documents.read" });
    expect(refused.code).toBe(VerifyCode.INSUFFICIENT_PERMISSIONS);
    expect((await admin.call(K.getKey, { keyId })).key?.remaining).toBe(1n);
    expect(await admin.call(K.verifyKey, { key: metered })).toMatchObject({ valid: true, remaining: 0n });
  });

  it.each(ROUTES)("a malformed query is INVALID_ARGUMENT with its position, over %s", async (route) => {
    const client = connectRoute(route, keyward);
    expect(await callError(client.call(K.verifyKey, { key, permissionQuery: "documents.read AND (a OR" }))).toEqual({
      code: Code.InvalidArgument,
      message: 'permission_query: expected a permission or "(" but found the end of the query at position 25',
    });
    client.close();
  });
});

describe("root keys", () => {
  it("cannot be given permissions their creator lacks", async () => {
    const { key: manager } = await admin.call(K.createKey, {
      keyspaceId: "root",
      name: "docs manager",
      permissions: ["keyspace.root.create_key", "keyspace.root.update_key", "keyspace.docs.*"],
    });
    const client = connectRoute("grpc-js → gRPC port", keyward, manager);
    const { keyId } = await client.call(K.createKey, {
      keyspaceId: "root",
      name: "docs reader",
      permissions: ["keyspace.docs.read_key"],
    });
    for (const permissions of [["keyspace.billing.read_key"], ["keyspace.*.read_key"], ["keyspace.root.delete_key"]]) {
      expect(await callError(client.call(K.createKey, { keyspaceId: "root", name: "stronger", permissions }))).toEqual({
        code: Code.PermissionDenied,
        message: "permission denied: a root key cannot grant permissions it does not hold",
      });
      expect(
        await callError(client.call(K.updateKey, { keyId, updateMask: { paths: ["permissions"] }, permissions })),
      ).toMatchObject({ code: Code.PermissionDenied });
    }
    client.close();
  });

  it("leave the bootstrap root key to KEYWARD_ROOT_KEY", async () => {
    const bootstrap = { keyId: "key_00000000000000000000000000" };
    for (const [method, request] of [
      [K.revokeKey, bootstrap],
      [K.rerollKey, bootstrap],
      [K.deleteKey, bootstrap],
      [K.updateKey, { ...bootstrap, updateMask: { paths: ["enabled"] }, enabled: false }],
    ] as const) {
      expect(await callError(admin.call(method as never, request as never))).toEqual({
        code: Code.FailedPrecondition,
        message: "the bootstrap root key is managed by KEYWARD_ROOT_KEY",
      });
    }
    expect((await admin.call(K.getKey, bootstrap)).key?.name).toBe("Bootstrap root key (KEYWARD_ROOT_KEY)");
  });
});

describe.each(["grpc-js → gRPC port", "connect → HTTP port"] as const)("root keys over %s", (route) => {
  it("issue 9 item 2: a weaker root key cannot reroll, update, revoke, delete or credit a stronger one", async () => {
    const strong = await admin.call(K.createKey, {
      keyspaceId: "root",
      name: "admin",
      permissions: ["keyspace.*.*", "keyspace.root.read_key"],
    });
    const peer = await admin.call(K.createKey, {
      keyspaceId: "root",
      name: "peer",
      permissions: ["keyspace.root.update_key"],
    });
    const weak = await admin.call(K.createKey, {
      keyspaceId: "root",
      name: "root key janitor",
      permissions: [
        "keyspace.root.read_key",
        "keyspace.root.update_key",
        "keyspace.root.revoke_key",
        "keyspace.root.delete_key",
      ],
    });
    const client = connectRoute(route, keyward, weak.key);
    const target = { keyId: strong.keyId };
    for (const [method, request] of [
      [K.rerollKey, { ...target, gracePeriod: { seconds: 86_400n } }],
      [K.updateKey, { ...target, updateMask: { paths: ["name"] }, name: "mine now" }],
      [K.updateKey, { ...target, updateMask: { paths: ["permissions"] }, permissions: [] }],
      [K.updateCredits, { ...target, operation: { case: "set", value: 0n } }],
      [K.revokeKey, target],
      [K.deleteKey, target],
    ] as const) {
      expect(await callError(client.call(method as never, request as never)), method.name).toEqual({
        code: Code.PermissionDenied,
        message: "permission denied: a root key cannot change a root key that holds permissions it lacks",
      });
    }
    // The stronger key is untouched and still works.
    const after = (await admin.call(K.getKey, target)).key;
    expect(after).toMatchObject({
      name: "admin",
      revoked: false,
      permissions: ["keyspace.*.*", "keyspace.root.read_key"],
    });
    const strongClient = connectRoute(route, keyward, strong.key);
    expect((await strongClient.call(K.listKeys, { keyspaceId: "docs", pageSize: 1 })).keys.length).toBe(1);
    strongClient.close();
    // A root key holding no more than the caller's may still be changed.
    expect((await client.call(K.rerollKey, { keyId: peer.keyId })).keyId).toBe(peer.keyId);
    client.close();
  });
});
