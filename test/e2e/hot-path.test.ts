import { execFileSync } from "node:child_process";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { VerifyCode } from "../../gen/keyward/v1/key_pb.js";
import { KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { callError, connectRoute, type RouteClient } from "../support/clients.js";
import { startTestKeyward, type TestKeyward } from "../support/keyward.js";
import { sharedRedisUrl, startPrivateRedis } from "../support/redis.js";

const K = KeyService.method;
const DAY = 86_400_000;

let now = Date.parse("2026-06-15T12:00:00Z");
let keyward: TestKeyward;
let admin: RouteClient;
beforeAll(async () => {
  keyward = await startTestKeyward({ REDIS_URL: sharedRedisUrl, KEYWARD_USAGE_FLUSH_MS: "100" }, { clock: () => now });
  admin = connectRoute("grpc-js → gRPC port", keyward);
});
afterAll(async () => {
  admin.close();
  await keyward.stop();
});

const perMinute = (name: string, limit: bigint) => ({ name, limit, duration: { seconds: 60n } });

describe("rate limits in VerifyKey", () => {
  it("report every limit and refuse past the limit, without spending credits", async () => {
    const { key, keyId } = await admin.call(K.createKey, {
      name: "limited",
      remaining: 10n,
      ratelimits: [perMinute("requests", 3n)],
    });
    for (const left of [2n, 1n, 0n]) {
      const answer = await admin.call(K.verifyKey, { key });
      expect(answer).toMatchObject({
        valid: true,
        ratelimits: [{ name: "requests", limit: 3n, remaining: left, exceeded: false }],
      });
    }
    const refused = await admin.call(K.verifyKey, { key });
    // Refused before credits were looked at: none spent, none reported.
    expect(refused).toMatchObject({ valid: false, code: VerifyCode.RATE_LIMITED });
    expect(refused.remaining).toBeUndefined();
    expect((await admin.call(K.getKey, { keyId })).key?.remaining).toBe(7n);
    expect(refused.ratelimits[0]).toMatchObject({ remaining: 0n, exceeded: true });
    const resetAt = Number(refused.ratelimits[0]?.resetAt?.seconds) * 1000;
    expect(resetAt).toBe(Math.floor(now / 60_000) * 60_000 + 60_000);
  });

  it("count the request's cost against limits and credits", async () => {
    const { key } = await admin.call(K.createKey, {
      name: "costly",
      remaining: 50n,
      ratelimits: [perMinute("tokens", 100n)],
    });
    expect(await admin.call(K.verifyKey, { key, cost: 40 })).toMatchObject({
      valid: true,
      remaining: 10n,
      ratelimits: [{ name: "tokens", remaining: 60n }],
    });
    // Rate limits come before credits: this one counts against the limit, then finds too few credits.
    expect(await admin.call(K.verifyKey, { key, cost: 20 })).toMatchObject({
      code: VerifyCode.USAGE_EXCEEDED,
      remaining: 10n,
      ratelimits: [{ name: "tokens", remaining: 40n }],
    });
  });

  it("take per-request overrides and limits the key does not have", async () => {
    const { key } = await admin.call(K.createKey, { name: "overridden", ratelimits: [perMinute("requests", 100n)] });
    const answer = await admin.call(K.verifyKey, {
      key,
      ratelimits: [
        { name: "requests", limit: 1n },
        { name: "per-user", limit: 5n, duration: { seconds: 1n }, cost: 2 },
      ],
    });
    expect(answer.ratelimits.map((result) => [result.name, result.limit, result.remaining])).toEqual([
      ["requests", 1n, 0n],
      ["per-user", 5n, 3n],
    ]);
    expect(await admin.call(K.verifyKey, { key, ratelimits: [{ name: "requests", limit: 1n }] })).toMatchObject({
      code: VerifyCode.RATE_LIMITED,
    });
  });
});

describe("credits", () => {
  it("refill on time, once per period, without a job", async () => {
    const { key, keyId } = await admin.call(K.createKey, {
      name: "daily",
      remaining: 1n,
      refill: { interval: 1, amount: 5n },
    });
    expect(await admin.call(K.verifyKey, { key })).toMatchObject({ valid: true, remaining: 0n });
    expect(await admin.call(K.verifyKey, { key })).toMatchObject({ code: VerifyCode.USAGE_EXCEEDED });
    now += DAY;
    expect(await admin.call(K.verifyKey, { key })).toMatchObject({ valid: true, remaining: 4n });
    expect(await admin.call(K.verifyKey, { key })).toMatchObject({ valid: true, remaining: 3n });
    const { key: record } = await admin.call(K.getKey, { keyId });
    expect(Number(record?.refill?.lastRefilledAt?.seconds) * 1000).toBe(now - (now % 1000));
  });

  it("show and take additions from the refilled count once a refill is due, before any verification", async () => {
    const { key, keyId } = await admin.call(K.createKey, {
      name: "refill before use",
      remaining: 1n,
      refill: { interval: 1, amount: 5n },
    });
    expect(await admin.call(K.verifyKey, { key })).toMatchObject({ valid: true, remaining: 0n });
    now += DAY;
    expect((await admin.call(K.getKey, { keyId })).key?.remaining).toBe(5n);
    expect(await admin.call(K.updateCredits, { keyId, operation: { case: "add", value: 2n } })).toMatchObject({
      remaining: 7n,
    });
    expect(await admin.call(K.verifyKey, { key })).toMatchObject({ valid: true, remaining: 6n });
  });

  it("issue 9 item 11: set by UpdateKey while a refill is due, stay as set (the refill is not performed over them)", async () => {
    const { key, keyId } = await admin.call(K.createKey, {
      name: "set by hand",
      remaining: 1n,
      refill: { interval: 1, amount: 100n },
    });
    now += DAY; // a refill is due
    await admin.call(K.updateKey, { keyId, updateMask: { paths: ["remaining"] }, remaining: 7n });
    expect((await admin.call(K.getKey, { keyId })).key?.remaining).toBe(7n);
    expect(await admin.call(K.verifyKey, { key })).toMatchObject({ valid: true, remaining: 6n });
  });

  it("can be added or set with UpdateCredits", async () => {
    const { key, keyId } = await admin.call(K.createKey, { name: "topped up", remaining: 0n });
    expect(await admin.call(K.verifyKey, { key })).toMatchObject({ code: VerifyCode.USAGE_EXCEEDED });
    expect(await admin.call(K.updateCredits, { keyId, operation: { case: "add", value: 5n } })).toMatchObject({
      remaining: 5n,
    });
    expect(await admin.call(K.verifyKey, { key })).toMatchObject({ valid: true, remaining: 4n });
    expect(await admin.call(K.updateCredits, { keyId, operation: { case: "set", value: 100n } })).toMatchObject({
      remaining: 100n,
    });
    const unlimited = await admin.call(K.createKey, { name: "unlimited" });
    expect(
      await callError(admin.call(K.updateCredits, { keyId: unlimited.keyId, operation: { case: "add", value: 1n } })),
    ).toEqual({
      code: Code.FailedPrecondition,
      message: "key has no credit limit: set one with UpdateKey (remaining)",
    });
    expect(await callError(admin.call(K.updateCredits, { keyId }))).toMatchObject({ code: Code.InvalidArgument });
  });
});

describe("usage", () => {
  it("is counted by outcome and written back, with last_used_at, in batches", async () => {
    const { key, keyId } = await admin.call(K.createKey, { name: "used", remaining: 2n });
    for (let i = 0; i < 3; i++) await admin.call(K.verifyKey, { key });
    await admin.call(K.updateKey, { keyId, updateMask: { paths: ["enabled"] }, enabled: false });
    await admin.call(K.verifyKey, { key });
    await expect
      .poll(async () => (await admin.call(K.getKey, { keyId })).key?.usage, { timeout: 3_000 })
      .toMatchObject({ valid: 2n, usageExceeded: 1n, disabled: 1n, revoked: 0n });
    const { key: record } = await admin.call(K.getKey, { keyId });
    expect(Number(record?.lastUsedAt?.seconds) * 1000).toBe(now - (now % 1000));
  });
});

describe("without Redis", () => {
  it("starts, verifies keys and says it is not ready; when Redis comes, it is ready and counts limits there", async () => {
    const redis = await startPrivateRedis();
    await redis.stop();
    const keyward = await startTestKeyward({ REDIS_URL: redis.url }, { healthRefreshMs: 200 });
    const client = connectRoute("grpc-js → gRPC port", keyward);
    try {
      const { key } = await client.call(K.createKey, { name: "early" });
      expect(await client.call(K.verifyKey, { key })).toMatchObject({ valid: true });
      const readyz = () => fetch(`http://127.0.0.1:${keyward.httpPort}/readyz`).then((response) => response.status);
      const health = async () => (await client.call(Health.method.check, {})).status;
      expect(await readyz()).toBe(503);
      expect(await health()).toBe(HealthCheckResponse_ServingStatus.NOT_SERVING);
      await redis.start();
      await expect.poll(readyz, { timeout: 10_000 }).toBe(200);
      await expect.poll(health, { timeout: 5_000 }).toBe(HealthCheckResponse_ServingStatus.SERVING);
      const limited = await client.call(K.createKey, { name: "limited", ratelimits: [perMinute("requests", 5n)] });
      await client.call(K.verifyKey, { key: limited.key });
      const counters = execFileSync("redis-cli", ["-p", String(redis.port), "--scan", "--pattern", "kw:rl:*"], {
        encoding: "utf8",
      });
      expect(counters).toContain(limited.keyId);
    } finally {
      client.close();
      await keyward.stop();
      await redis.stop();
    }
  });

  it("keys without rate limits verify as before; rate limits fall back to this process, or fail closed", async () => {
    const redis = await startPrivateRedis();
    const local = await startTestKeyward({ REDIS_URL: redis.url });
    const closed = await startTestKeyward({ REDIS_URL: redis.url, KEYWARD_RATELIMIT_FALLBACK: "deny" });
    const [a, b] = [connectRoute("grpc-js → gRPC port", local), connectRoute("grpc-js → gRPC port", closed)];
    try {
      const plainA = await a.call(K.createKey, { name: "plain" });
      const limitedA = await a.call(K.createKey, { name: "limited", ratelimits: [perMinute("requests", 1n)] });
      const limitedB = await b.call(K.createKey, { name: "limited", ratelimits: [perMinute("requests", 1n)] });
      await redis.stop();
      expect(await a.call(K.verifyKey, { key: plainA.key })).toMatchObject({ valid: true });
      expect(await a.call(K.verifyKey, { key: limitedA.key })).toMatchObject({ valid: true });
      expect(await a.call(K.verifyKey, { key: limitedA.key })).toMatchObject({ code: VerifyCode.RATE_LIMITED });
      expect(await callError(b.call(K.verifyKey, { key: limitedB.key }))).toEqual({
        code: Code.Unavailable,
        message: "Redis is unavailable",
      });
    } finally {
      a.close();
      b.close();
      await Promise.all([local.stop(), closed.stop()]);
      await redis.stop();
    }
  });
});
