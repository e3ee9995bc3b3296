import { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Authorization } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { VerifyCode } from "../../gen/keyward/v1/key_pb.js";
import { KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import type { SingleClient as RedisClient } from "../../src/adapters/redis/redis-connection.js";
import { createKeyHasher } from "../../src/keys/key-hasher.js";
import { createLogger } from "../../src/observability/logger.js";
import { callError, connectRoute, ROUTES } from "../support/clients.js";
import { checkRequest } from "../support/envoy-requests.js";
import { startTestKeyward, type TestKeyward } from "../support/keyward.js";
import { startTestMongo, type TestMongo } from "../support/mongo.js";
import { connectRedis, type PrivateRedis, startPrivateRedis } from "../support/redis.js";

const { createKey, verifyKey, rerollKey, revokeKey, updateKey, getKey, listKeys } = KeyService.method;

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
    // Four calls per route, the envoy root key's creation, and the bootstrap key's (actor keyward).
    expect(await db.collection("audit_events").countDocuments()).toBe(ROUTES.length * 4 + 2);
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

describe("a key's secret never reaches Redis: cache entries, rate-limit counters or invalidations", () => {
  // A Redis of this test's own, so that the scan below sees only what this server wrote.
  let redis: PrivateRedis;
  let reader: RedisClient;
  let listener: RedisClient;
  const messages: { channel: string; message: string }[] = [];
  let server: TestKeyward;
  beforeAll(async () => {
    redis = await startPrivateRedis();
    reader = await connectRedis(redis.url, createLogger("silent"));
    listener = await connectRedis(redis.url, createLogger("silent"));
    // Every channel, not only keyward:invalidate, and from before the server starts: nothing published is missed.
    await listener.pSubscribe("*", (message, channel) => void messages.push({ channel, message }));
    server = await startTestKeyward({ REDIS_URL: redis.url });
  });
  afterAll(async () => {
    await server?.stop();
    await listener?.close();
    await reader?.close();
    await redis?.stop();
  });

  it("after keys are created, verified, rerolled, updated and revoked, no Redis key, value or message holds a secret", async () => {
    const client = connectRoute("connect → HTTP port", server);
    // Only verified: its record stays in the shared cache, and its rate limit leaves counters.
    const { keyId: keptId, key: kept } = await client.call(createKey, {
      name: "kept",
      prefix: "sk_live",
      ratelimits: [{ name: "requests", limit: 100n, duration: { seconds: 60n } }],
    });
    expect((await client.call(verifyKey, { key: kept })).code).toBe(VerifyCode.VALID);
    // Changed in every way that publishes an invalidation.
    const { keyId, key } = await client.call(createKey, { name: "changed", prefix: "sk_live", remaining: 5n });
    await client.call(verifyKey, { key });
    await client.call(verifyKey, { key: `${key.slice(0, -1)}x` });
    const { key: rerolled } = await client.call(rerollKey, { keyId, gracePeriod: { seconds: 60n } });
    await client.call(verifyKey, { key });
    await client.call(verifyKey, { key: rerolled });
    await client.call(updateKey, { keyId, updateMask: { paths: ["name"] }, name: "renamed" });
    await client.call(verifyKey, { key: rerolled });
    await client.call(revokeKey, { keyId, reason: "test" });
    expect((await client.call(verifyKey, { key: rerolled })).code).toBe(VerifyCode.REVOKED);
    client.close();

    // Reroll, update and revoke each publish one invalidation; wait until the listener has them all.
    const invalidations = () => messages.filter(({ channel }) => channel === "keyward:invalidate");
    await expect.poll(() => invalidations().length).toBeGreaterThanOrEqual(3);
    const published = messages.map(({ channel, message }) => `${channel} ${message}`).join("\n");

    // Every key with its value, whatever its type.
    const entries = new Map<string, string>();
    for await (const names of reader.scanIterator()) {
      for (const name of names) entries.set(name, await readValue(reader, name));
    }
    const stored = [...entries].map(([name, value]) => `${name} ${value}`).join("\n");

    // The check must see real data: cached records under the keys' hashes (the root key's too),
    // rate-limit counters, and invalidations naming the changed key's hashes.
    const hash = createKeyHasher();
    // Signed as bytes (kw2, the MAC), then the compact layout, which holds the key id as text.
    expect(entries.get(`kw:key:{${hash(kept)}}`)).toMatch(new RegExp(`^kw2[\\s\\S]*${keptId}`));
    expect(entries.get(`kw:key:{${hash(server.rootKey)}}`)).toMatch(/^kw2[\s\S]*key_/);
    expect(entries.has(`kw:key:{${hash(rerolled)}}`)).toBe(true);
    expect([...entries.keys()].some((name) => name.startsWith(`kw:rl:{${keptId}}:`))).toBe(true);
    expect(invalidations().some(({ message }) => message.includes(hash(rerolled)) && message.includes(hash(key)))).toBe(
      true,
    );

    for (const secret of [kept, key, rerolled, server.rootKey]) {
      const body = secret.slice(secret.lastIndexOf("_") + 1);
      for (const [where, text] of [
        ["Redis", stored],
        ["pub/sub", published],
      ] as const) {
        expect(text.includes(secret), `${where} holds a secret`).toBe(false);
        expect(text.includes(body), `${where} holds a secret's body`).toBe(false);
      }
    }
  });
});

/** A key's whole value as text, read with the getter its type needs; fails on a type it cannot read. */
async function readValue(redis: RedisClient, name: string): Promise<string> {
  const type = await redis.type(name);
  switch (type) {
    case "string":
      return (await redis.get(name)) ?? "";
    case "hash":
      return JSON.stringify(await redis.hGetAll(name));
    case "list":
      return JSON.stringify(await redis.lRange(name, 0, -1));
    case "set":
      return JSON.stringify(await redis.sMembers(name));
    case "zset":
      return JSON.stringify(await redis.zRangeWithScores(name, 0, -1));
    case "stream":
      return JSON.stringify(await redis.xRange(name, "-", "+"));
    case "none":
      return ""; // expired between SCAN and TYPE
    default:
      throw new Error(`${name} has type ${type}, which this check cannot read`);
  }
}
