import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { BOOTSTRAP_KEY_ID, generateRootKey } from "../../src/bootstrap.js";
import { callError, connectRoute, type RouteClient } from "../support/clients.js";
import { startTestKeyward } from "../support/keyward.js";
import { startTestMongo, type TestMongo } from "../support/mongo.js";

const K = KeyService.method;

let mongo: TestMongo;
beforeAll(async () => {
  mongo = await startTestMongo();
});
afterAll(() => mongo.stop());

/** Runs Keyward on the shared MongoDB with the given root key; `use` gets a client per root key; then it stops. */
async function withKeyward(rootKey: string, use: (clientFor: (key: string) => RouteClient) => Promise<void>) {
  const keyward = await startTestKeyward({
    MONGODB_URI: mongo.uri,
    MONGODB_DATABASE: mongo.database,
    KEYWARD_ROOT_KEY: rootKey,
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

  it("after a restart without it, the bootstrap key is revoked, and stored root keys still work", async () => {
    await withKeyward("", async (clientFor) => {
      expect(await callError(clientFor(second).call(K.listKeys, {}))).toMatchObject({ code: Code.Unauthenticated });
      const { key } = await clientFor(auditorKey).call(K.getKey, { keyId: BOOTSTRAP_KEY_ID });
      expect(key).toMatchObject({ revoked: true, revocationReason: "KEYWARD_ROOT_KEY is no longer set" });
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
