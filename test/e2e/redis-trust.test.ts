import { createHash, createHmac } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { createClient, RESP_TYPES } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VerifyCode } from "../../gen/keyward/v1/key_pb.js";
import { KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { encodeCachedKey } from "../../src/adapters/redis/key-record-codec.js";
import { generateKey } from "../../src/keys/key-material.js";
import { callError, connectRoute, type Route, type RouteClient } from "../support/clients.js";
import { startTestKeyward, type TestKeyward } from "../support/keyward.js";
import { sampleRecord } from "../support/records.js";
import { type PrivateRedis, startPrivateRedis } from "../support/redis.js";

/**
 * Issue 9 item 1: Redis is shared infrastructure, not an authority. Whoever
 * can write to it (the sidecar manifests hand REDIS_URL to every application)
 * must not be able to make a key valid, strong or un-revoked. Each case plays
 * that attacker with a plain Redis client.
 */
const K = KeyService.method;
const CHANNEL = "keyward:invalidate";
const SECRET = "a-redis-secret-the-attacker-does-not-know-0123456789";

let redis: PrivateRedis;
let keyward: TestKeyward;
let attacker: ReturnType<typeof createClient>;
let admin: RouteClient;

beforeAll(async () => {
  redis = await startPrivateRedis();
  keyward = await startTestKeyward({
    REDIS_URL: redis.url,
    KEYWARD_REDIS_SECRET: SECRET,
    // Copies a change message carried live this long: short, so the replay cases are quick.
    KEYWARD_CACHE_DEGRADED_TTL_MS: "100",
  });
  attacker = createClient({ url: redis.url });
  await attacker.connect();
  admin = connectRoute("grpc-js → gRPC port", keyward);
});
afterAll(async () => {
  admin.close();
  await attacker.close();
  await keyward.stop();
  await redis.stop();
});

/** keyward_redis_rejected_values_total{kind="cache"} of the shared Keyward, 0 before the first. */
async function rejectedCacheValues(): Promise<number> {
  const metrics = await (await fetch(`http://127.0.0.1:${keyward.httpPort}/metrics`)).text();
  return Number(/keyward_redis_rejected_values_total\{kind="cache"\} (\d+)/.exec(metrics)?.[1] ?? 0);
}

const sha256 = (key: string) => createHash("sha256").update(key).digest("base64url");
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A made-up key with a valid checksum, and a record that makes it the strongest root key there is. */
function forgedRootKey() {
  const key = generateKey("kw_root", 32);
  const record = sampleRecord({
    keyspaceId: "root",
    hash: sha256(key),
    prefix: "kw_root",
    permissions: ["keyspace.*.*", "keyspace.root.*"],
  });
  return { key, record, hash: record.hash, json: JSON.stringify(record) };
}

/** Every shape an attacker might write: today's unsigned format, and signed ones under a guessed secret. */
function forgeries(redisKey: string, payload: string): string[] {
  const guessed = (secret: string) =>
    createHmac("sha256", secret).update(`kw1\n${redisKey}\n${payload}`).digest("base64url").slice(0, 22);
  return [payload, `kw1.${guessed("guess")}.${payload}`, `kw1.${"A".repeat(22)}.${payload}`, `kw1..${payload}`];
}

/** The same in the shared cache's binary form (issue 11): the compact layout, bare or signed as `kw2` under a guess. */
function binaryForgeries(redisKey: string, payload: Buffer): Buffer[] {
  const guessed = (secret: string) =>
    createHmac("sha256", secret).update(`kw2\n${redisKey}\n`).update(payload).digest().subarray(0, 16);
  const kw2 = Buffer.from("kw2");
  return [
    payload,
    Buffer.concat([kw2, guessed("guess"), payload]),
    Buffer.concat([kw2, Buffer.alloc(16), payload]),
    Buffer.concat([kw2, payload]),
  ];
}

describe.each(["grpc-js → gRPC port", "connect → HTTP port"] as Route[])("over %s", (route) => {
  it("issue 9 item 1: a record written into Redis does not make a made-up key a root key", async () => {
    const forged = forgedRootKey();
    const redisKey = `kw:key:{${forged.hash}}`;
    const layout = Buffer.concat([Buffer.of(1), encodeCachedKey(forged.record, Date.now(), forged.hash)]);
    for (const value of [
      ...forgeries(redisKey, `${Date.now()}|${forged.json}`),
      ...binaryForgeries(redisKey, layout),
    ]) {
      await attacker.set(redisKey, value);
      const client = connectRoute(route, keyward, forged.key);
      expect(await callError(client.call(K.listKeys, { keyspaceId: "root" }))).toMatchObject({
        code: Code.Unauthenticated,
      });
      expect((await admin.call(K.verifyKey, { key: forged.key })).code).toBe(VerifyCode.NOT_FOUND);
      client.close();
      await attacker.del(redisKey);
    }
  });
});

describe("the invalidation channel", () => {
  it("issue 9 item 1: a forged message cannot un-revoke a key", async () => {
    const { key, keyId } = await admin.call(K.createKey, { name: "to revoke" });
    await admin.call(K.revokeKey, { keyId });
    await pause(150); // the revoked copy the revocation message carried has lived its time
    const record = JSON.stringify(sampleRecord({ keyId, hash: sha256(key), revoked: false }));
    const message = JSON.stringify({ hashes: [sha256(key)], record, sentAt: Date.now() });
    for (const forged of forgeries(CHANNEL, message)) {
      await attacker.publish(CHANNEL, forged);
      await pause(20);
      expect((await admin.call(K.verifyKey, { key })).code).toBe(VerifyCode.REVOKED);
    }
  });

  it("issue 9 item 1: a message replayed from before a revocation cannot un-revoke the key", async () => {
    const listener = attacker.duplicate();
    await listener.connect();
    const heard: string[] = [];
    await listener.subscribe(CHANNEL, (message) => void heard.push(message));
    const { key, keyId } = await admin.call(K.createKey, { name: "replayed" });
    await admin.call(K.updateKey, { keyId, updateMask: { paths: ["name"] }, name: "renamed" });
    await pause(50);
    const beforeRevocation = [...heard];
    expect(beforeRevocation.length).toBeGreaterThan(0);
    await admin.call(K.revokeKey, { keyId });
    await pause(150);
    for (const message of beforeRevocation) {
      await attacker.publish(CHANNEL, message);
      await pause(20);
      expect((await admin.call(K.verifyKey, { key })).code).toBe(VerifyCode.REVOKED);
    }
    await listener.close();
  });
});

describe("the invalidation channel, with a short cache TTL", () => {
  it("issue 9 item 1: a message replayed after the TTL but while still fresh cannot un-revoke a key", async () => {
    const short = await startTestKeyward({
      REDIS_URL: redis.url,
      KEYWARD_CACHE_TTL_MS: "1000",
      KEYWARD_CACHE_DEGRADED_TTL_MS: "100",
    });
    const client = connectRoute("grpc-js → gRPC port", short);
    const listener = attacker.duplicate();
    await listener.connect();
    const heard: string[] = [];
    await listener.subscribe(CHANNEL, (message) => void heard.push(message));
    try {
      const { key, keyId } = await client.call(K.createKey, { name: "short-lived copies" });
      await client.call(K.updateKey, { keyId, updateMask: { paths: ["name"] }, name: "renamed" });
      await pause(50);
      const beforeRevocation = [...heard];
      await client.call(K.revokeKey, { keyId });
      await pause(1_500); // past the cache TTL, within the 5 s a message counts as fresh
      for (const message of beforeRevocation) await attacker.publish(CHANNEL, message);
      await pause(30);
      expect((await client.call(K.verifyKey, { key })).code).toBe(VerifyCode.REVOKED);
    } finally {
      await listener.close();
      client.close();
      await short.stop();
    }
  });
});

describe("the shared cache", () => {
  it("issue 9 item 1: a cached copy captured before a revocation and written back is not believed", async () => {
    const { key, keyId } = await admin.call(K.createKey, { name: "captured" });
    expect((await admin.call(K.verifyKey, { key })).code).toBe(VerifyCode.VALID);
    const redisKey = `kw:key:{${sha256(key)}}`;
    const captured = await attacker.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }).get(redisKey);
    expect(captured).not.toBeNull();
    await admin.call(K.revokeKey, { keyId });
    const rejectedBefore = await rejectedCacheValues();
    await attacker.set(redisKey, captured as Buffer);
    await pause(150); // past the copy the revocation message carried: the next lookup reads Redis
    expect((await admin.call(K.verifyKey, { key })).code).toBe(VerifyCode.REVOKED);
    // Refused for its age, not for its signature: the copy was authentic.
    expect(await rejectedCacheValues()).toBe(rejectedBefore);
  });

  it("issue 9 item 1: a refused value is counted in a metric and logged without the value", async () => {
    const forged = forgedRootKey();
    const redisKey = `kw:key:{${forged.hash}}`;
    await attacker.set(redisKey, `kw1.${"A".repeat(22)}.${Date.now()}|${forged.json}`);
    await admin.call(K.verifyKey, { key: forged.key });
    const metrics = await (await fetch(`http://127.0.0.1:${keyward.httpPort}/metrics`)).text();
    expect(metrics).toMatch(/keyward_redis_rejected_values_total\{kind="cache"\} [1-9]/);
    const warnings = keyward.logs.filter((line) => line.includes("failed authentication"));
    expect(warnings.length).toBeGreaterThan(0);
    for (const line of keyward.logs) expect(line).not.toContain(forged.hash);
    await attacker.del(redisKey);
  });
});

describe("without KEYWARD_REDIS_SECRET (dev mode)", () => {
  it("issue 9 item 1: signs with a secret of its own, says so, and believes no other process's values", async () => {
    const other = await startTestKeyward({ REDIS_URL: redis.url, KEYWARD_REDIS_SECRET: "" });
    try {
      expect(other.logs.some((line) => line.includes("KEYWARD_REDIS_SECRET is not set"))).toBe(true);
      const { key } = await admin.call(K.createKey, { name: "seen by the first replica" });
      expect((await admin.call(K.verifyKey, { key })).code).toBe(VerifyCode.VALID); // fills Redis, signed
      const client = connectRoute("grpc-js → gRPC port", other);
      // The other process's store does not have the key (dev mode: memory), and Redis's copy is not believed.
      expect((await client.call(K.verifyKey, { key })).code).toBe(VerifyCode.NOT_FOUND);
      client.close();
      const metrics = await (await fetch(`http://127.0.0.1:${other.httpPort}/metrics`)).text();
      expect(metrics).toMatch(/keyward_redis_rejected_values_total\{kind="cache"\} [1-9]/);
    } finally {
      await other.stop();
    }
  });
});
