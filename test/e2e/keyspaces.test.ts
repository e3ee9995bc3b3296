import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { KeyspaceService } from "../../gen/keyward/v1/keyspace_service_pb.js";
import { callError, connectRoute, type RouteClient } from "../support/clients.js";
import { startTestKeyward, type TestKeyward } from "../support/keyward.js";

const K = KeyService.method;
const KS = KeyspaceService.method;

let keyward: TestKeyward;
let admin: RouteClient;
beforeAll(async () => {
  keyward = await startTestKeyward();
  admin = connectRoute("grpc-js → gRPC port", keyward);
});
afterAll(async () => {
  admin.close();
  await keyward.stop();
});

describe("keyspaces", () => {
  it("always have default and root", async () => {
    const { keyspaces } = await admin.call(KS.listKeyspaces, {});
    expect(keyspaces.map((keyspace) => keyspace.keyspaceId)).toEqual(["default", "root"]);
    expect(keyspaces[1]?.keyDefaults?.prefix).toBe("kw_root");
  });

  it("give new keys their defaults, unless the request sets its own", async () => {
    await admin.call(KS.createKeyspace, {
      keyspaceId: "search",
      orgId: "org_7",
      name: "Search API",
      keyDefaults: {
        prefix: "srch",
        byteLength: 24,
        environment: "live",
        ratelimits: [{ name: "requests", limit: 50n, duration: { seconds: 1n } }],
      },
    });
    const { keyId } = await admin.call(K.createKey, { keyspaceId: "search", name: "defaults" });
    const { key } = await admin.call(K.getKey, { keyId });
    expect(key).toMatchObject({ prefix: "srch", byteLength: 24, environment: "live" });
    expect(key?.ratelimits.map((limit) => [limit.name, limit.limit])).toEqual([["requests", 50n]]);

    const own = await admin.call(K.createKey, {
      keyspaceId: "search",
      name: "own",
      prefix: "mine",
      byteLength: 16,
      environment: "test",
      ratelimits: [{ name: "burst", limit: 5n, duration: { seconds: 1n } }],
    });
    const { key: ownKey } = await admin.call(K.getKey, { keyId: own.keyId });
    expect(ownKey).toMatchObject({ prefix: "mine", byteLength: 16, environment: "test" });
    expect(ownKey?.ratelimits.map((limit) => limit.name)).toEqual(["burst"]);
  });

  it("refuse keys for a keyspace that does not exist", async () => {
    expect(await callError(admin.call(K.createKey, { keyspaceId: "nowhere", name: "x" }))).toEqual({
      code: Code.NotFound,
      message: "keyspace not found",
    });
  });

  it("cannot be created twice, and default and root are taken", async () => {
    for (const keyspaceId of ["search", "default", "root"]) {
      expect(await callError(admin.call(KS.createKeyspace, { keyspaceId, name: "again" }))).toEqual({
        code: Code.AlreadyExists,
        message: "keyspace already exists",
      });
    }
  });

  it("get an id when created without one", async () => {
    const { keyspace } = await admin.call(KS.createKeyspace, { name: "unnamed" });
    expect(keyspace?.keyspaceId).toMatch(/^ks_[0-9a-z]{26}$/);
    expect((await admin.call(KS.getKeyspace, { keyspaceId: keyspace?.keyspaceId ?? "" })).keyspace?.name).toBe(
      "unnamed",
    );
  });

  it("change only the fields in the update mask", async () => {
    const { keyspace } = await admin.call(KS.updateKeyspace, {
      keyspaceId: "search",
      updateMask: { paths: ["description", "roles"] },
      description: "full-text search",
      name: "ignored",
      roles: [{ name: "reader", permissions: ["search.query"] }],
    });
    expect(keyspace).toMatchObject({ name: "Search API", description: "full-text search", orgId: "org_7" });
    expect(keyspace?.roles).toMatchObject([{ name: "reader", permissions: ["search.query"] }]);
    expect(
      await callError(
        admin.call(KS.updateKeyspace, { keyspaceId: "nowhere", updateMask: { paths: ["name"] }, name: "x" }),
      ),
    ).toEqual({
      code: Code.NotFound,
      message: "keyspace not found",
    });
  });

  it("list by org, a page at a time", async () => {
    for (const keyspaceId of ["org9-a", "org9-b", "org9-c"]) {
      await admin.call(KS.createKeyspace, { keyspaceId, orgId: "org_9", name: keyspaceId });
    }
    const first = await admin.call(KS.listKeyspaces, { orgId: "org_9", pageSize: 2 });
    const second = await admin.call(KS.listKeyspaces, { orgId: "org_9", pageSize: 2, pageToken: first.nextPageToken });
    expect([...first.keyspaces, ...second.keyspaces].map((keyspace) => keyspace.keyspaceId)).toEqual([
      "org9-a",
      "org9-b",
      "org9-c",
    ]);
    expect(second.nextPageToken).toBe("");
  });

  it("refuse a key default byte length below 16", async () => {
    const error = await callError(
      admin.call(KS.createKeyspace, { keyspaceId: "weak", name: "weak", keyDefaults: { byteLength: 8 } }),
    );
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.message).toContain("key_defaults.byte_length");
  });
});
