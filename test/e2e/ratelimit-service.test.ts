import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  RateLimitResponse_Code,
  RateLimitResponse_RateLimit_Unit,
  RateLimitService,
} from "../../gen/envoy/service/ratelimit/v3/rls_pb.js";
import { KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { KeyspaceService } from "../../gen/keyward/v1/keyspace_service_pb.js";
import { callError, connectRoute, type RouteClient } from "../support/clients.js";
import { startTestKeyward, type TestKeyward } from "../support/keyward.js";
import { sharedRedisUrl } from "../support/redis.js";

const { shouldRateLimit } = RateLimitService.method;
const scratch = mkdtempSync(join(tmpdir(), "keyward-rls-"));
const rulesFile = join(scratch, "ratelimit.yaml");
writeFileSync(
  rulesFile,
  `
domain: edge
descriptors:
  - key: remote_address
    rate_limit: { unit: minute, requests_per_unit: 3 }
  - key: x-keyward-key-id
  - key: plan
    value: free
    shadow_mode: true
    rate_limit: { unit: minute, requests_per_unit: 1 }
`,
);

let keyward: TestKeyward;
let envoy: RouteClient;
beforeAll(async () => {
  keyward = await startTestKeyward({ REDIS_URL: sharedRedisUrl, KEYWARD_RATELIMIT_CONFIG: rulesFile });
  envoy = connectRoute("grpc-js → gRPC port", keyward);
});
afterAll(async () => {
  envoy.close();
  await keyward.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const descriptor = (...pairs: [string, string][]) => ({ entries: pairs.map(([key, value]) => ({ key, value })) });
const unique = () => `10.9.${Math.floor(Math.random() * 255)}.${Math.floor(Math.random() * 255)}`;

describe("Envoy's rate-limit service", () => {
  it("counts a descriptor against its rule and answers OVER_LIMIT past it, with the time to reset", async () => {
    const address = unique();
    const ask = () =>
      envoy.call(shouldRateLimit, { domain: "edge", descriptors: [descriptor(["remote_address", address])] });
    for (const left of [2, 1, 0]) {
      expect(await ask()).toMatchObject({
        overallCode: RateLimitResponse_Code.OK,
        statuses: [
          {
            code: RateLimitResponse_Code.OK,
            limitRemaining: left,
            currentLimit: { requestsPerUnit: 3, unit: RateLimitResponse_RateLimit_Unit.MINUTE },
          },
        ],
      });
    }
    const over = await ask();
    expect(over.overallCode).toBe(RateLimitResponse_Code.OVER_LIMIT);
    const reset = Number(over.statuses[0]?.durationUntilReset?.seconds ?? -1n);
    expect(reset).toBeGreaterThanOrEqual(0);
    expect(reset).toBeLessThanOrEqual(60);
  });

  it("holds a descriptor with x-keyward-key-id to that key's own limits", async () => {
    const admin = connectRoute("grpc-js → gRPC port", keyward);
    const { keyId } = await admin.call(KeyService.method.createKey, {
      name: "per key",
      ratelimits: [{ name: "requests", limit: 2n, duration: { seconds: 60n } }],
    });
    admin.close();
    const ask = () =>
      envoy.call(shouldRateLimit, { domain: "edge", descriptors: [descriptor(["x-keyward-key-id", keyId])] });
    expect((await ask()).overallCode).toBe(RateLimitResponse_Code.OK);
    expect((await ask()).statuses[0]).toMatchObject({
      limitRemaining: 0,
      currentLimit: { name: "requests", requestsPerUnit: 2 },
    });
    expect((await ask()).overallCode).toBe(RateLimitResponse_Code.OVER_LIMIT);
  });

  it("answers OVER_LIMIT when any descriptor is over, and counts hits_addend", async () => {
    const address = unique();
    const answer = await envoy.call(shouldRateLimit, {
      domain: "edge",
      hitsAddend: 3,
      descriptors: [descriptor(["country", "NZ"]), descriptor(["remote_address", address])],
    });
    expect(answer.statuses.map((status) => status.code)).toEqual([
      RateLimitResponse_Code.OK,
      RateLimitResponse_Code.OK,
    ]);
    const next = await envoy.call(shouldRateLimit, {
      domain: "edge",
      descriptors: [descriptor(["remote_address", address])],
    });
    expect(next.overallCode).toBe(RateLimitResponse_Code.OVER_LIMIT);
  });

  it("only reports a rule in shadow mode: over the limit, still OK", async () => {
    const ask = () => envoy.call(shouldRateLimit, { domain: "edge", descriptors: [descriptor(["plan", "free"])] });
    await ask();
    const shadowed = await ask();
    expect(shadowed.overallCode).toBe(RateLimitResponse_Code.OK);
    expect(shadowed.statuses[0]).toMatchObject({ code: RateLimitResponse_Code.OK, limitRemaining: 0 });
    expect(keyward.logs.some((line) => line.includes("over the limit in shadow mode"))).toBe(true);
  });

  it("lets everything through for a domain it has no rules for", async () => {
    expect(
      await envoy.call(shouldRateLimit, { domain: "other", descriptors: [descriptor(["remote_address", "10.0.0.1"])] }),
    ).toMatchObject({ overallCode: RateLimitResponse_Code.OK, statuses: [{ code: RateLimitResponse_Code.OK }] });
  });

  it("needs a root key that may verify, and holds descriptors only to keys of keyspaces it may verify in", async () => {
    const admin = connectRoute("grpc-js → gRPC port", keyward);
    await admin.call(KeyspaceService.method.createKeyspace, { keyspaceId: "rls-other", name: "other" });
    const { keyId } = await admin.call(KeyService.method.createKey, {
      keyspaceId: "rls-other",
      name: "foreign",
      ratelimits: [{ name: "requests", limit: 1n, duration: { seconds: 60n } }],
    });
    const rootKey = async (permissions: string[]) =>
      (await admin.call(KeyService.method.createKey, { keyspaceId: "root", name: "rls", permissions })).key;
    const [readOnly, defaultOnly] = [
      await rootKey(["keyspace.*.read_key"]),
      await rootKey(["keyspace.default.verify_key"]),
    ];
    admin.close();
    const request = { domain: "edge", descriptors: [descriptor(["x-keyward-key-id", keyId])] };
    const askAs = async (key: string) => {
      const caller = connectRoute("grpc-js → gRPC port", keyward, key);
      try {
        return await caller.call(shouldRateLimit, request);
      } finally {
        caller.close();
      }
    };
    expect(await callError(askAs(""))).toMatchObject({ code: Code.Unauthenticated });
    expect(await callError(askAs(readOnly))).toMatchObject({ code: Code.PermissionDenied });
    // Another keyspace's key id is as good as unknown: no limits, nothing counted against it.
    for (let i = 0; i < 3; i++) {
      const answer = await askAs(defaultOnly);
      expect(answer.overallCode).toBe(RateLimitResponse_Code.OK);
      expect(answer.statuses[0]?.currentLimit).toBeUndefined();
    }
    // The key's own limit is untouched by those calls: its first counted request is still allowed.
    expect((await envoy.call(shouldRateLimit, request)).overallCode).toBe(RateLimitResponse_Code.OK);
    expect((await envoy.call(shouldRateLimit, request)).overallCode).toBe(RateLimitResponse_Code.OVER_LIMIT);
  });
});
