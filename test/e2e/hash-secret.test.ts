import { randomBytes } from "node:crypto";
import { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VerifyCode } from "../../gen/keyward/v1/key_pb.js";
import { KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { BOOTSTRAP_KEY_ID } from "../../src/composition/bootstrap.js";
import { createKeyHasher } from "../../src/keys/key-hasher.js";
import { connectRoute } from "../support/clients.js";
import { startTestKeyward, type TestKeyward } from "../support/keyward.js";
import { startTestMongo, type TestMongo } from "../support/mongo.js";

const { createKey, verifyKey, rerollKey } = KeyService.method;

const hashSecret = randomBytes(32).toString("base64url");

let mongo: TestMongo;
let keyward: TestKeyward;
beforeAll(async () => {
  mongo = await startTestMongo();
  keyward = await startTestKeyward({
    MONGODB_URI: mongo.uri,
    MONGODB_DATABASE: mongo.database,
    KEYWARD_HASH_SECRET: hashSecret,
  });
});
afterAll(async () => {
  await keyward?.stop();
  await mongo?.stop();
});

describe("KEYWARD_HASH_SECRET", () => {
  it("stores keys, the root key and retired secrets under HMAC-SHA-256 of the secret, and verifies them", async () => {
    const client = connectRoute("connect → HTTP port", keyward);
    const { keyId, key } = await client.call(createKey, { name: "hmac", prefix: "sk_live" });
    expect((await client.call(verifyKey, { key })).code).toBe(VerifyCode.VALID);
    const { key: rerolled } = await client.call(rerollKey, { keyId, gracePeriod: { seconds: 60n } });
    expect((await client.call(verifyKey, { key: rerolled })).code).toBe(VerifyCode.VALID);
    client.close();

    const mongoClient = new MongoClient(mongo.uri);
    const keys = mongoClient.db(mongo.database).collection("keys");
    const stored = await keys.findOne({ keyId });
    const root = await keys.findOne({ keyId: BOOTSTRAP_KEY_ID });
    await mongoClient.close();

    const hmac = createKeyHasher(hashSecret);
    const sha256 = createKeyHasher();
    // Under the HMAC, not the plain SHA-256 that anyone holding the database could check guesses against.
    expect(stored?.hash).toBe(hmac(rerolled));
    expect(stored?.hash).not.toBe(sha256(rerolled));
    expect(stored?.retiredSecrets).toEqual([expect.objectContaining({ hash: hmac(key) })]);
    expect(root?.hash).toBe(hmac(keyward.rootKey));
    expect(root?.hash).not.toBe(sha256(keyward.rootKey));
  });
});
