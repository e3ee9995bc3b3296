import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VerifyCode } from "../../gen/keyward/v1/key_pb.js";
import { KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { KeyspaceService } from "../../gen/keyward/v1/keyspace_service_pb.js";
import { callError, connectRoute, ROUTES, type RouteClient } from "../support/clients.js";
import { startTestKeyward, type TestKeyward } from "../support/keyward.js";
import { startTestMongo, type TestMongo } from "../support/mongo.js";

const K = KeyService.method;
const KS = KeyspaceService.method;

/**
 * Issue 9 item 10: update_mask paths such as `permissions.0` passed
 * validation; on MongoDB the `$unset` they became left a null inside an
 * array, and from then on every read of the keyspace failed. Against the
 * MongoDB stand-in (or MONGODB_URI), where the damage showed.
 */
let mongo: TestMongo;
let keyward: TestKeyward;
let admin: RouteClient;
/** Holds only keyspace.alpha.update_key: the weak root key of the report. */
let weakRootKey: string;
/** The key the requests aim at, and one beside it in the same keyspace. */
let target: { keyId: string; key: string };
let neighbour: { keyId: string; key: string };

beforeAll(async () => {
  mongo = await startTestMongo();
  keyward = await startTestKeyward({ MONGODB_URI: mongo.uri, MONGODB_DATABASE: mongo.database });
  admin = connectRoute("grpc-js → gRPC port", keyward);
  await admin.call(KS.createKeyspace, {
    keyspaceId: "alpha",
    name: "alpha",
    roles: [{ name: "reader", permissions: ["documents.read"] }],
    keyDefaults: { prefix: "al", ratelimits: [{ name: "requests", limit: 100n, duration: { seconds: 60n } }] },
  });
  const settings = {
    keyspaceId: "alpha",
    permissions: ["documents.read", "documents.write"],
    roles: ["reader"],
    scopes: ["profile"],
    remaining: 1000n,
    refill: { interval: 1, amount: 1000n },
    ratelimits: [{ name: "requests", limit: 100n, duration: { seconds: 60n } }],
    meta: { tier: "gold" },
  };
  target = await admin.call(K.createKey, { ...settings, name: "target" });
  neighbour = await admin.call(K.createKey, { ...settings, name: "neighbour" });
  ({ key: weakRootKey } = await admin.call(K.createKey, {
    keyspaceId: "root",
    name: "weak",
    permissions: ["keyspace.alpha.update_key"],
  }));
});
afterAll(async () => {
  admin.close();
  await keyward.stop();
  await mongo.stop();
});

/** What keyspace alpha holds, read the three ways the report saw fail. */
async function alphaState() {
  const listed = await admin.call(K.listKeys, { keyspaceId: "alpha", pageSize: 1000 });
  const got = await admin.call(K.getKey, { keyId: neighbour.keyId });
  const verified = await admin.call(K.verifyKey, { key: neighbour.key, cost: 0 });
  const keyspace = await admin.call(KS.getKeyspace, { keyspaceId: "alpha" });
  expect(verified.code).toBe(VerifyCode.VALID);
  return {
    keys: listed.keys.map(({ usage, lastUsedAt, ...key }) => key),
    neighbour: { ...got.key, usage: undefined, lastUsedAt: undefined },
    keyspace: keyspace.keyspace,
  };
}

describe("issue 9 item 10: update_mask paths name whole fields only", () => {
  it.each([["permissions.0"], ["ratelimits.0.limit"], ["refill.amount"], ["scopes.0"], ["meta.tier"], ["name.first"]])(
    "issue 9 item 10: UpdateKey with update_mask %s is INVALID_ARGUMENT naming update_mask on every route, and changes nothing",
    async (path) => {
      const before = await alphaState();
      for (const route of ROUTES) {
        const client = connectRoute(route, keyward, weakRootKey);
        const error = await callError(client.call(K.updateKey, { keyId: target.keyId, updateMask: { paths: [path] } }));
        client.close();
        expect(error.code, route).toBe(Code.InvalidArgument);
        expect(error.message, route).toContain("update_mask");
      }
      expect(await alphaState()).toEqual(before);
    },
  );

  it.each([["roles.0"], ["roles.0.permissions"], ["key_defaults.prefix"], ["key_defaults.ratelimits.0"]])(
    "issue 9 item 10: UpdateKeyspace with update_mask %s is INVALID_ARGUMENT naming update_mask on every route, and changes nothing",
    async (path) => {
      const before = await alphaState();
      for (const route of ROUTES) {
        const client = connectRoute(route, keyward);
        const error = await callError(
          client.call(KS.updateKeyspace, { keyspaceId: "alpha", updateMask: { paths: [path] } }),
        );
        client.close();
        expect(error.code, route).toBe(Code.InvalidArgument);
        expect(error.message, route).toContain("update_mask");
      }
      expect(await alphaState()).toEqual(before);
    },
  );

  it("issue 9 item 10: whole-field paths still work, and clear what they name", async () => {
    const weak = connectRoute("connect → HTTP port", keyward, weakRootKey);
    const { key } = await weak.call(K.updateKey, {
      keyId: target.keyId,
      updateMask: { paths: ["permissions", "ratelimits", "refill", "name"] },
      permissions: ["documents.read"],
      name: "renamed",
    });
    weak.close();
    expect(key).toMatchObject({ name: "renamed", permissions: ["documents.read"], ratelimits: [] });
    expect(key?.refill).toBeUndefined();
    const updated = await admin.call(KS.updateKeyspace, {
      keyspaceId: "alpha",
      updateMask: { paths: ["roles", "description"] },
      roles: [{ name: "writer", permissions: ["documents.write"] }],
    });
    expect(updated.keyspace).toMatchObject({ description: "", roles: [{ name: "writer" }] });
    expect((await admin.call(K.listKeys, { keyspaceId: "alpha" })).keys.length).toBe(2);
  });
});
