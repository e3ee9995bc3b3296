import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditService } from "../../gen/keyward/v1/audit_service_pb.js";
import { KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { BOOTSTRAP_KEY_ID, generateRootKey } from "../../src/composition/bootstrap.js";
import { callError, connectRoute, type RouteClient } from "../support/clients.js";
import { startTestKeyward } from "../support/keyward.js";
import { startTestMongo, type TestMongo } from "../support/mongo.js";
import { startPrivateRedis } from "../support/redis.js";

const K = KeyService.method;

let mongo: TestMongo;
beforeAll(async () => {
  mongo = await startTestMongo();
});
afterAll(() => mongo.stop());

/** Runs Keyward on the shared MongoDB with the given root key; `use` gets a client per root key; then it stops. */
async function withKeyward(
  rootKey: string,
  use: (clientFor: (key: string) => RouteClient) => Promise<void>,
  env: Record<string, string> = {},
) {
  const keyward = await startTestKeyward({
    MONGODB_URI: mongo.uri,
    MONGODB_DATABASE: mongo.database,
    KEYWARD_ROOT_KEY: rootKey,
    ...env,
  });
  const clients: RouteClient[] = [];
  try {
    await use((key) => {
      const client = connectRoute("grpc-js → gRPC port", keyward, key);
      clients.push(client);
      return client;
    });
  } finally {
    for (const client of clients) client.close();
    await keyward.stop();
  }
}

describe("the bootstrap root key follows KEYWARD_ROOT_KEY across restarts", () => {
  const first = generateRootKey();
  const second = generateRootKey();
  let auditorKey = "";
  /** The bootstrap root key the last test left in place. */
  let current = second;

  it("works with the key it was started with", async () => {
    await withKeyward(first, async (clientFor) => {
      ({ key: auditorKey } = await clientFor(first).call(K.createKey, {
        keyspaceId: "root",
        name: "root key reader",
        permissions: ["keyspace.root.read_key"],
      }));
    });
  });

  it("after a restart with another key, the old one is refused and the new one works", async () => {
    await withKeyward(second, async (clientFor) => {
      expect(await callError(clientFor(first).call(K.listKeys, {}))).toEqual({
        code: Code.Unauthenticated,
        message: "invalid root key",
      });
      const { keys } = await clientFor(second).call(K.listKeys, { keyspaceId: "root" });
      expect(keys.map((key) => key.name)).toEqual(["Bootstrap root key (KEYWARD_ROOT_KEY)", "root key reader"]);
    });
  });

  it("issue 9 item 5: after a restart without it, nothing changes: the bootstrap key still works", async () => {
    await withKeyward("", async (clientFor) => {
      expect((await clientFor(second).call(K.listKeys, { keyspaceId: "root" })).keys.length).toBe(2);
      const { key } = await clientFor(auditorKey).call(K.getKey, { keyId: BOOTSTRAP_KEY_ID });
      expect(key).toMatchObject({ revoked: false });
    });
  });

  it("issue 9 item 5: a replica restarting with a rotated-away KEYWARD_ROOT_KEY refuses to start", async () => {
    await expect(withKeyward(first, async () => {})).rejects.toThrow(
      /KEYWARD_ROOT_KEY is a bootstrap root key that was rotated away or revoked/,
    );
    await withKeyward(second, async (clientFor) => {
      expect(await callError(clientFor(first).call(K.listKeys, {}))).toMatchObject({ code: Code.Unauthenticated });
      expect((await clientFor(second).call(K.listKeys, {})).keys.length).toBeGreaterThan(0);
    });
  });

  it("issue 9 item 5: KEYWARD_REVOKE_ROOT_KEY=true revokes it, and that secret never comes back", async () => {
    await withKeyward(
      "",
      async (clientFor) => {
        expect(await callError(clientFor(second).call(K.listKeys, {}))).toMatchObject({ code: Code.Unauthenticated });
        const { key } = await clientFor(auditorKey).call(K.getKey, { keyId: BOOTSTRAP_KEY_ID });
        expect(key).toMatchObject({ revoked: true, revocationReason: "revoked by KEYWARD_REVOKE_ROOT_KEY" });
      },
      { KEYWARD_REVOKE_ROOT_KEY: "true" },
    );
    await expect(withKeyward(second, async () => {})).rejects.toThrow(/rotated away or revoked/);
    const third = generateRootKey();
    await withKeyward(third, async (clientFor) => {
      expect((await clientFor(third).call(K.getKey, { keyId: BOOTSTRAP_KEY_ID })).key?.revoked).toBe(false);
    });
    current = third;
  });

  it("issue 9 item 5: every bootstrap change, and every refused one, is in the audit log", async () => {
    await withKeyward(current, async (clientFor) => {
      const { events } = await clientFor(current).call(AuditService.method.listAuditEvents, {
        keyId: BOOTSTRAP_KEY_ID,
        pageSize: 100,
      });
      const bootstrap = events.filter((event) => event.action.startsWith("Bootstrap"));
      expect(bootstrap.map((event) => `${event.action} ${event.outcome}`).reverse()).toEqual([
        "BootstrapCreateRootKey OK",
        "BootstrapRotateRootKey OK",
        "BootstrapRotateRootKey FAILED_PRECONDITION",
        "BootstrapRevokeRootKey OK",
        "BootstrapRotateRootKey FAILED_PRECONDITION",
        "BootstrapRotateRootKey OK",
      ]);
      for (const event of bootstrap) expect(event).toMatchObject({ actorKeyId: "keyward", keyspaceId: "root" });
    });
  });

  it("lets several replicas start at once on the same database", async () => {
    const rootKey = generateRootKey();
    const replicas = await Promise.all(
      [1, 2, 3].map(() =>
        startTestKeyward({ MONGODB_URI: mongo.uri, MONGODB_DATABASE: mongo.database, KEYWARD_ROOT_KEY: rootKey }),
      ),
    );
    for (const replica of replicas) {
      const client = connectRoute("grpc-js → gRPC port", replica, rootKey);
      expect((await client.call(K.getKey, { keyId: BOOTSTRAP_KEY_ID })).key?.revoked).toBe(false);
      client.close();
    }
    await Promise.all(replicas.map((replica) => replica.stop()));
  });
});

describe("issue 9 item 5: a rotation reaches running replicas at once", () => {
  it("the replaced secret is refused by a replica that was using it, well within the cache TTL", async () => {
    const redis = await startPrivateRedis();
    const [before, after] = [generateRootKey(), generateRootKey()];
    const env = { MONGODB_URI: mongo.uri, MONGODB_DATABASE: mongo.database, REDIS_URL: redis.url };
    const running = await startTestKeyward({ ...env, KEYWARD_ROOT_KEY: before });
    const client = connectRoute("grpc-js → gRPC port", running, before);
    try {
      expect((await client.call(K.listKeys, { pageSize: 1 })).keys.length).toBe(1); // cached, remembered
      const rotating = await startTestKeyward({ ...env, KEYWARD_ROOT_KEY: after });
      const rotatedAt = performance.now();
      await expect
        .poll(async () => (await callError(client.call(K.listKeys, { pageSize: 1 })).catch(() => undefined))?.code, {
          interval: 20,
          timeout: 2_000,
        })
        .toBe(Code.Unauthenticated);
      console.log(`the rotated-away root key was refused ${(performance.now() - rotatedAt).toFixed(0)} ms after`);
      await rotating.stop();
    } finally {
      client.close();
      await running.stop();
      await redis.stop();
    }
  });
});
