import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code } from "@connectrpc/connect";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Authorization, type CheckResponse } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { RateLimitResponse_Code, RateLimitService } from "../../gen/envoy/service/ratelimit/v3/rls_pb.js";
import { VerifyCode } from "../../gen/keyward/v1/key_pb.js";
import { KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { KeyspaceService } from "../../gen/keyward/v1/keyspace_service_pb.js";
import { callError, connectRoute, type Route, type RouteClient } from "../support/clients.js";
import { checkRequest } from "../support/envoy-requests.js";
import { startTestKeyward } from "../support/keyward.js";
import { type PrivateRedis, startPrivateRedis } from "../support/redis.js";

/**
 * Issue 9 items 3, 4, 6 and 11b: every front end of a verification (VerifyKey,
 * Envoy's Check, ShouldRateLimit's key descriptors) obeys the same input rules
 * and the same reach, whoever calls it.
 */
const K = KeyService.method;
const { check } = Authorization.method;
const { shouldRateLimit } = RateLimitService.method;
const ROUTES: Route[] = ["grpc-js → gRPC port", "connect → HTTP port"];

const scratch = mkdtempSync(join(tmpdir(), "keyward-boundaries-"));
const rulesFile = join(scratch, "ratelimit.yaml");
writeFileSync(
  rulesFile,
  [
    "domain: edge",
    "descriptors:",
    "  - key: remote_address",
    "    rate_limit: { unit: minute, requests_per_unit: 3 }",
    "  - key: x-keyward-key-id",
  ].join("\n"),
);
let redis: PrivateRedis;
let monitor: ReturnType<typeof createClient>;

beforeAll(async () => {
  redis = await startPrivateRedis();
  monitor = createClient({ url: redis.url });
  await monitor.connect();
});
afterAll(async () => {
  await monitor.close();
  await redis.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** A Keyward with two application keyspaces, a key in each (with credits and a rate limit of 2 a minute). */
async function deployment(env: Record<string, string>) {
  const keyward = await startTestKeyward({ REDIS_URL: redis.url, KEYWARD_RATELIMIT_CONFIG: rulesFile, ...env });
  const admin = connectRoute("grpc-js → gRPC port", keyward);
  const keys: Record<string, { key: string; keyId: string }> = {};
  for (const keyspaceId of ["app-a", "app-b"]) {
    await admin.call(KeyspaceService.method.createKeyspace, { keyspaceId, name: keyspaceId });
    keys[keyspaceId] = await admin.call(K.createKey, {
      keyspaceId,
      name: `${keyspaceId} customer`,
      remaining: 10n,
      ratelimits: [{ name: "requests", limit: 2n, duration: { seconds: 60n } }],
    });
  }
  const a = keys["app-a"] as { key: string; keyId: string };
  const b = keys["app-b"] as { key: string; keyId: string };
  return {
    keyward,
    admin,
    a,
    b,
    async stop() {
      admin.close();
      await keyward.stop();
    },
  };
}

function checkWith(key: string, contextExtensions: Record<string, string>) {
  const request = checkRequest("check-request-http1", key);
  if (request.attributes) request.attributes.contextExtensions = contextExtensions;
  return request;
}

function denialCode(response: CheckResponse): { http?: number | undefined; code?: string } {
  if (response.httpResponse.case !== "deniedResponse") return {};
  const denied = response.httpResponse.value;
  return { http: denied.status?.code, code: (JSON.parse(denied.body) as { code: string }).code };
}

describe("issue 9 item 3: Check holds its input to VerifyKey's rules", () => {
  let setup: Awaited<ReturnType<typeof deployment>>;
  let envoy: RouteClient;
  beforeAll(async () => {
    setup = await deployment({});
    envoy = connectRoute("grpc-js → gRPC port", setup.keyward);
  });
  afterAll(async () => {
    envoy.close();
    await setup.stop();
  });

  it.each(["-1000000000000", "-1", "NaN", "abc", "1.5", "1e3", " 5", "99999999999", "1000001", ""])(
    "issue 9 item 3: keyward.cost %j is INVALID_ARGUMENT and mints no credits",
    async (cost) => {
      const before = (await setup.admin.call(K.getKey, { keyId: setup.a.keyId })).key?.remaining;
      const error = await callError(envoy.call(check, checkWith(setup.a.key, { "keyward.cost": cost })));
      expect(error.code).toBe(Code.InvalidArgument);
      expect(error.message).toMatch(/^keyward\.cost: /);
      expect((await setup.admin.call(K.getKey, { keyId: setup.a.keyId })).key?.remaining).toBe(before);
    },
  );

  it("issue 9 item 3: a cost within the rules is spent", async () => {
    const before = (await setup.admin.call(K.getKey, { keyId: setup.a.keyId })).key?.remaining ?? 0n;
    const response = await envoy.call(check, checkWith(setup.a.key, { "keyward.cost": "0" }));
    expect(response.httpResponse.case).toBe("okResponse");
    expect((await setup.admin.call(K.getKey, { keyId: setup.a.keyId })).key?.remaining).toBe(before);
  });

  it("issue 9 item 3: keyward.permission_query is held to VerifyKey's bounds and syntax", async () => {
    for (const query of ["documents.read AND (", `${"x".repeat(1001)}`]) {
      const error = await callError(envoy.call(check, checkWith(setup.a.key, { "keyward.permission_query": query })));
      expect(error.code).toBe(Code.InvalidArgument);
      expect(error.message).toMatch(/^keyward\.permission_query: /);
    }
  });

  it("issue 9 item 3: a presented key longer than VerifyKey allows is refused like an unknown key", async () => {
    const response = await envoy.call(check, checkWith(`kw_${"x".repeat(600)}`, {}));
    expect(denialCode(response)).toEqual({ http: 401, code: "VERIFY_CODE_NOT_FOUND" });
  });
});

describe("issue 9 item 4: KEYWARD_VERIFY_AUTH=none verifies only in KEYWARD_VERIFY_KEYSPACES", () => {
  let setup: Awaited<ReturnType<typeof deployment>>;
  beforeAll(async () => {
    setup = await deployment({ KEYWARD_VERIFY_AUTH: "none", KEYWARD_VERIFY_KEYSPACES: "app-a" });
  });
  afterAll(() => setup.stop());

  it.each(ROUTES)(
    "issue 9 item 4: VerifyKey over %s answers NOT_FOUND for other keyspaces and root keys",
    async (route) => {
      const anonymous = connectRoute(route, setup.keyward, "");
      expect((await anonymous.call(K.verifyKey, { key: setup.a.key, cost: 0 })).code).toBe(VerifyCode.VALID);
      for (const key of [setup.b.key, setup.keyward.rootKey]) {
        expect(await anonymous.call(K.verifyKey, { key, cost: 0 })).toMatchObject({
          valid: false,
          code: VerifyCode.NOT_FOUND,
          keyId: "",
        });
      }
      anonymous.close();
    },
  );

  it("issue 9 item 4: Check answers 401 for keys of other keyspaces and root keys", async () => {
    const anonymous = connectRoute("grpc-js → gRPC port", setup.keyward, "");
    expect((await anonymous.call(check, checkWith(setup.a.key, { "keyward.cost": "0" }))).status?.code).toBe(0);
    for (const key of [setup.b.key, setup.keyward.rootKey]) {
      expect(denialCode(await anonymous.call(check, checkWith(key, {})))).toEqual({
        http: 401,
        code: "VERIFY_CODE_NOT_FOUND",
      });
    }
    anonymous.close();
  });

  it("issue 9 item 6: ShouldRateLimit ignores key descriptors of keys outside KEYWARD_VERIFY_KEYSPACES", async () => {
    const anonymous = connectRoute("grpc-js → gRPC port", setup.keyward, "");
    const descriptor = (keyId: string) => ({
      domain: "edge",
      descriptors: [{ entries: [{ key: "x-keyward-key-id", value: keyId }] }],
    });
    for (let i = 0; i < 4; i++) {
      const answer = await anonymous.call(shouldRateLimit, descriptor(setup.b.keyId));
      expect(answer.overallCode).toBe(RateLimitResponse_Code.OK);
      expect(answer.statuses[0]?.currentLimit).toBeUndefined();
    }
    // A key it may verify is held to its own limits (2 a minute).
    const codes = [];
    for (let i = 0; i < 3; i++)
      codes.push((await anonymous.call(shouldRateLimit, descriptor(setup.a.keyId))).overallCode);
    expect(codes).toEqual([RateLimitResponse_Code.OK, RateLimitResponse_Code.OK, RateLimitResponse_Code.OVER_LIMIT]);
    anonymous.close();
  });
});

describe("issue 9 item 4: root keys verify only with KEYWARD_VERIFY_ROOT_KEYS", () => {
  it("issue 9 item 4: a root key allowed to verify root keys still gets NOT_FOUND for them, unless opted in", async () => {
    for (const optIn of [false, true]) {
      const setup = await deployment(optIn ? { KEYWARD_VERIFY_ROOT_KEYS: "true" } : {});
      const verifier = await setup.admin.call(K.createKey, {
        keyspaceId: "root",
        name: "verifies root keys",
        permissions: ["keyspace.root.verify_key", "keyspace.app-a.verify_key"],
      });
      for (const route of ROUTES) {
        const client = connectRoute(route, setup.keyward, verifier.key);
        const answer = await client.call(K.verifyKey, { key: setup.keyward.rootKey });
        expect(answer.code, `opt-in ${optIn} over ${route}`).toBe(optIn ? VerifyCode.VALID : VerifyCode.NOT_FOUND);
        client.close();
      }
      await setup.stop();
    }
  });
});

describe("issue 9 item 6: ShouldRateLimit's reach", () => {
  let setup: Awaited<ReturnType<typeof deployment>>;
  const clients: RouteClient[] = [];
  beforeAll(async () => {
    setup = await deployment({ KEYWARD_RATELIMIT_MAX_COUNTERS_PER_RULE: "5" });
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await setup.stop();
  });

  /** An Envoy of a service of its own: a root key that may verify in app-a. */
  async function envoyOf(service: string): Promise<RouteClient> {
    const { key } = await setup.admin.call(K.createKey, {
      keyspaceId: "root",
      name: `envoy of ${service}`,
      permissions: ["keyspace.app-a.verify_key"],
    });
    const client = connectRoute("grpc-js → gRPC port", setup.keyward, key);
    clients.push(client);
    return client;
  }
  const byAddress = (address: string) => ({ entries: [{ key: "remote_address", value: address }] });

  it("issue 9 item 6: refuses more descriptors than the bound, counting none", async () => {
    const envoy = await envoyOf("flooding");
    const descriptors = Array.from({ length: 10_000 }, (_, i) => byAddress(`10.9.${i >> 8}.${i & 255}`));
    const error = await callError(envoy.call(shouldRateLimit, { domain: "edge", descriptors }));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.message).toMatch(/^descriptors: /);
    expect(await monitor.keys("kw:rl:*10.9.*")).toEqual([]);
  });

  it("issue 9 item 6: counts every descriptor of a request in one Redis script call", async () => {
    const envoy = await envoyOf("batched");
    const evals = async () => {
      const stats = await monitor.info("commandstats");
      return [...stats.matchAll(/cmdstat_(?:evalsha|eval):calls=(\d+)/g)].reduce((sum, [, n]) => sum + Number(n), 0);
    };
    const descriptors = Array.from({ length: 4 }, (_, i) => byAddress(`10.8.0.${i}`));
    const before = await evals();
    const answer = await envoy.call(shouldRateLimit, { domain: "edge", descriptors });
    expect(answer.statuses.map((status) => status.limitRemaining)).toEqual([2, 2, 2, 2]);
    expect((await evals()) - before).toBe(1);
  });

  it("issue 9 item 6: one rule creates no more counters than KEYWARD_RATELIMIT_MAX_COUNTERS_PER_RULE per window", async () => {
    const envoy = await envoyOf("spraying");
    const descriptors = Array.from({ length: 40 }, (_, i) => byAddress(`10.7.0.${i}`));
    const answer = await envoy.call(shouldRateLimit, { domain: "edge", descriptors });
    // Five values have counters of their own; the other 35 share one, which admits 3 of them.
    const over = answer.statuses.filter((status) => status.code === RateLimitResponse_Code.OVER_LIMIT).length;
    expect(over).toBe(35 - 3);
    expect((await monitor.keys("kw:rl:*10.7.0.*")).length).toBe(5);
  });

  it("issue 9 item 6: callers with different root keys do not share rule counters", async () => {
    const [one, two] = [await envoyOf("one"), await envoyOf("two")];
    const request = { domain: "edge", descriptors: [byAddress("192.0.2.1")] };
    for (let i = 0; i < 3; i++) {
      expect((await one.call(shouldRateLimit, request)).overallCode).toBe(RateLimitResponse_Code.OK);
    }
    expect((await one.call(shouldRateLimit, request)).overallCode).toBe(RateLimitResponse_Code.OVER_LIMIT);
    expect((await two.call(shouldRateLimit, request)).overallCode).toBe(RateLimitResponse_Code.OK);
  });

  it("issue 9 item 6: refuses a hits_addend beyond the cost bound", async () => {
    const envoy = await envoyOf("heavy");
    const error = await callError(
      envoy.call(shouldRateLimit, { domain: "edge", descriptors: [byAddress("192.0.2.9")], hitsAddend: 4_000_000_000 }),
    );
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.message).toMatch(/^hits_addend: /);
  });
});

describe("issue 9 item 11: failed verifications are throttled per address", () => {
  it.each(ROUTES)("issue 9 item 11: under KEYWARD_VERIFY_AUTH=none, over %s", async (route) => {
    const setup = await deployment({
      KEYWARD_VERIFY_AUTH: "none",
      KEYWARD_VERIFY_KEYSPACES: "app-a",
      KEYWARD_VERIFY_FAILURES_PER_MINUTE: "5",
    });
    const anonymous = connectRoute(route, setup.keyward, "");
    for (let i = 0; i < 5; i++) {
      expect((await anonymous.call(K.verifyKey, { key: setup.b.key })).code).toBe(VerifyCode.NOT_FOUND);
    }
    expect(await callError(anonymous.call(K.verifyKey, { key: setup.a.key }))).toMatchObject({
      code: Code.ResourceExhausted,
    });
    anonymous.close();
    await setup.stop();
  });

  it("issue 9 item 11: Check throttles the client address Envoy reports, per caller", async () => {
    const setup = await deployment({ KEYWARD_VERIFY_FAILURES_PER_MINUTE: "5" });
    const envoy = connectRoute("grpc-js → gRPC port", setup.keyward);
    const unknown = `${setup.b.key.slice(0, -6)}111111`;
    for (let i = 0; i < 5; i++) {
      expect(denialCode(await envoy.call(check, checkWith(unknown, {}))).http).toBe(401);
    }
    expect(denialCode(await envoy.call(check, checkWith(setup.a.key, {})))).toEqual({
      http: 429,
      code: "TOO_MANY_FAILURES",
    });
    // Another client behind the same Envoy is not affected.
    const other = checkWith(setup.a.key, { "keyward.cost": "0" });
    const source = other.attributes?.source?.address?.address;
    if (source?.case === "socketAddress") source.value.address = "10.1.0.99";
    expect((await envoy.call(check, other)).status?.code).toBe(0);
    // Nor is the same client behind another service's Envoy: one caller cannot lock an address out for all.
    const { key: otherEnvoyKey } = await setup.admin.call(K.createKey, {
      keyspaceId: "root",
      name: "another service's envoy",
      permissions: ["keyspace.app-a.verify_key"],
    });
    const otherEnvoy = connectRoute("grpc-js → gRPC port", setup.keyward, otherEnvoyKey);
    expect((await otherEnvoy.call(check, checkWith(setup.a.key, { "keyward.cost": "0" }))).status?.code).toBe(0);
    otherEnvoy.close();
    envoy.close();
    await setup.stop();
  });
});
