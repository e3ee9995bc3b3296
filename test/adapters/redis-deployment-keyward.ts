import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VerifyCode } from "../../gen/keyward/v1/key_pb.js";
import { KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { closeRedis, type RedisClient, type RedisOptions } from "../../src/adapters/redis/redis-connection.js";
import { createKeyHasher } from "../../src/keys/key-hasher.js";
import { createLogger } from "../../src/observability/logger.js";
import { connectRoute } from "../support/clients.js";
import { startTestKeyward, type TestKeyward } from "../support/keyward.js";
import { connectRedisOf } from "../support/redis.js";

const { createKey, verifyKey, revokeKey } = KeyService.method;

/** Keyward started from its settings against the deployment: keys are cached, counted and revoked there. */
export function keywardOver(deployment: string, redis: () => RedisOptions, env: () => Record<string, string>): void {
  describe(`Keyward with ${deployment} settings`, () => {
    let keyward: TestKeyward | undefined;
    let reader: RedisClient | undefined;
    beforeAll(async () => {
      keyward = await startTestKeyward(env());
      reader = await connectRedisOf(redis(), createLogger("silent"));
    });
    afterAll(async () => {
      await keyward?.stop();
      if (reader) await closeRedis(reader);
    });

    it("caches keys and counts rate limits in it, and refuses a revoked key", async () => {
      const client = connectRoute("connect → HTTP port", keyward as TestKeyward);
      const { keyId, key } = await client.call(createKey, {
        name: "deployment",
        prefix: "sk_live",
        ratelimits: [{ name: "requests", limit: 2n, duration: { seconds: 60n } }],
      });
      const codes = [];
      for (let i = 0; i < 3; i++) codes.push((await client.call(verifyKey, { key })).code);
      expect(codes).toEqual([VerifyCode.VALID, VerifyCode.VALID, VerifyCode.RATE_LIMITED]);
      expect(await reader?.get(`kw:key:{${createKeyHasher()(key)}}`)).toMatch(/^kw2/);
      await client.call(revokeKey, { keyId, reason: "test" });
      expect((await client.call(verifyKey, { key })).code).toBe(VerifyCode.REVOKED);
    });
  });
}
