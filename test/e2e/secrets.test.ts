import { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Authorization } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { createKeyHasher } from "../../src/keys/key-hasher.js";
import { callError, connectRoute, ROUTES } from "../support/clients.js";
import { checkRequest } from "../support/envoy-requests.js";
import { startTestKeyward, type TestKeyward } from "../support/keyward.js";
import { startTestMongo, type TestMongo } from "../support/mongo.js";

const { createKey, verifyKey, rerollKey, revokeKey, getKey, listKeys } = KeyService.method;

let mongo: TestMongo;
let keyward: TestKeyward;
beforeAll(async () => {
  mongo = await startTestMongo();
  keyward = await startTestKeyward({ MONGODB_URI: mongo.uri, MONGODB_DATABASE: mongo.database });
});
afterAll(async () => {
  await keyward.stop();
  await mongo.stop();
});

describe("a key's secret never appears in logs, errors or storage", () => {
  it("after a full life on every route, no stored document and no log line holds any secret", async () => {
    const secrets: string[] = [];
    for (const route of ROUTES) {
      const client = connectRoute(route, keyward);
      const { keyId, key } = await client.call(createKey, { name: "secret-check", prefix: "sk_live", remaining: 5n });
      secrets.push(key);
      await client.call(verifyKey, { key });
      await client.call(verifyKey, { key: `${key.slice(0, -1)}x` });
      const { key: rerolled } = await client.call(rerollKey, { keyId, gracePeriod: { seconds: 60n } });
      secrets.push(rerolled);
      await client.call(verifyKey, { key });
      await client.call(verifyKey, { key: rerolled });
      // A secret sent where an id belongs must not be echoed back or logged.
      const misuse = await callError(client.call(getKey, { keyId: rerolled }));
      expect(misuse.message).not.toContain(rerolled);
      await client.call(revokeKey, { keyId, reason: "test" });
      await client.call(verifyKey, { key: rerolled });
      client.close();
    }
    // Envoy's way in: the secret arrives inside a CheckRequest's headers.
    const envoy = connectRoute("grpc-js → gRPC port", keyward);
    const { key: checked } = await envoy.call(createKey, { name: "checked by envoy", prefix: "sk_live" });
    secrets.push(checked);
    expect(
      (await envoy.call(Authorization.method.check, checkRequest("check-request-http1", checked))).status?.code,
    ).toBe(0);
    await envoy.call(Authorization.method.check, checkRequest("check-request-raw-headers", checked));
    envoy.close();

    const client = new MongoClient(mongo.uri);
    const db = client.db(mongo.database);
    const stored: string[] = [];
    for (const { name } of await db.listCollections().toArray()) {
      for (const document of await db.collection(name).find().toArray()) stored.push(JSON.stringify(document));
    }
    // The check must see real data: every key is stored by its hash, and so is the root key.
    expect(await db.collection("keys").countDocuments()).toBe(ROUTES.length + 2);
    expect(await db.collection("audit_events").countDocuments()).toBe(ROUTES.length * 4 + 1);
    await client.close();
    const hash = createKeyHasher();
    expect(stored.join("\n")).toContain(hash(secrets[1] ?? ""));
    secrets.push(keyward.rootKey);

    const logs = keyward.logs.join("\n");
    expect(keyward.logs.length).toBeGreaterThan(ROUTES.length * 8);
    for (const secret of secrets) {
      const body = secret.slice(secret.lastIndexOf("_") + 1);
      for (const [where, text] of [
        ["storage", stored.join("\n")],
        ["logs", logs],
      ] as const) {
        expect(text.includes(secret), `${where} holds a secret`).toBe(false);
        expect(text.includes(body), `${where} holds a secret's body`).toBe(false);
      }
    }
    // And the API never shows it again either.
    const listed = JSON.stringify(
      (await connectRoute("connect → HTTP port", keyward).call(listKeys, {})).keys,
      (_, value) => (typeof value === "bigint" ? String(value) : value),
    );
    for (const secret of secrets) expect(listed.includes(secret.slice(secret.lastIndexOf("_") + 1))).toBe(false);
  });
});
