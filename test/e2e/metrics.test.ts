import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RateLimitService } from "../../gen/envoy/service/ratelimit/v3/rls_pb.js";
import { KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { generateKey } from "../../src/keys/key-material.js";
import { connectRoute, type RouteClient } from "../support/clients.js";
import { startTestKeyward, type TestKeyward } from "../support/keyward.js";
import { sharedRedisUrl } from "../support/redis.js";

const K = KeyService.method;

let keyward: TestKeyward;
let client: RouteClient;
let metrics: string;

beforeAll(async () => {
  // A clock that stands still: a slow machine must not let the remembered root key lapse between calls.
  const now = Date.now();
  keyward = await startTestKeyward({ REDIS_URL: sharedRedisUrl }, { clock: () => now });
  client = connectRoute("grpc-js → gRPC port", keyward);
  // Redis connects in the background; /readyz answers 200 (and records the ping) once it has.
  for (let attempt = 0; (await fetch(`http://127.0.0.1:${keyward.httpPort}/readyz`)).status !== 200; attempt++) {
    if (attempt > 100) throw new Error("Redis never became ready");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const { key } = await client.call(K.createKey, {
    name: "measured",
    ratelimits: [{ name: "requests", limit: 1n, duration: { seconds: 60n } }],
  });
  await client.call(K.verifyKey, { key });
  await client.call(K.verifyKey, { key });
  await client.call(K.verifyKey, { key: generateKey("kw", 16) });
  await client.call(RateLimitService.method.shouldRateLimit, { domain: "none", descriptors: [] });
  const response = await fetch(`http://127.0.0.1:${keyward.httpPort}/metrics`);
  expect(response.headers.get("content-type")).toContain("text/plain");
  metrics = await response.text();
});
afterAll(async () => {
  client.close();
  await keyward.stop();
});

/** The value of one sample, by its exact name and labels as Prometheus prints them. */
function sample(line: string): number {
  const found = metrics.split("\n").find((text) => text.startsWith(`${line} `));
  return found === undefined ? Number.NaN : Number(found.slice(line.length + 1));
}

describe("/metrics", () => {
  it("counts verifications by outcome", () => {
    expect(sample('keyward_verifications_total{code="VALID"}')).toBe(1);
    expect(sample('keyward_verifications_total{code="RATE_LIMITED"}')).toBe(1);
    expect(sample('keyward_verifications_total{code="NOT_FOUND"}')).toBe(1);
  });

  it("times every RPC by method and code", () => {
    expect(sample('keyward_rpc_duration_seconds_count{method="keyward.v1.KeyService/VerifyKey",code="OK"}')).toBe(3);
    expect(sample('keyward_rpc_duration_seconds_count{method="keyward.v1.KeyService/CreateKey",code="OK"}')).toBe(1);
    expect(
      sample(
        'keyward_rpc_duration_seconds_count{method="envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit",code="OK"}',
      ),
    ).toBe(1);
  });

  it("counts lookups by the cache layer that answered", () => {
    // The store answered for the root key, the key and the unknown key once each; this process, the key's second time.
    expect(sample('keyward_cache_lookups_total{layer="store"}')).toBe(3);
    expect(sample('keyward_cache_lookups_total{layer="local"}')).toBe(1);
  });

  it("counts rate-limit decisions", () => {
    expect(sample('keyward_ratelimit_decisions_total{source="verify",decision="allowed"}')).toBe(1);
    expect(sample('keyward_ratelimit_decisions_total{source="verify",decision="limited"}')).toBe(1);
  });

  it("reports whether Redis answers, and how fast", () => {
    expect(sample('keyward_dependency_up{dependency="redis"}')).toBe(1);
    expect(sample('keyward_dependency_ping_seconds_count{dependency="redis"}')).toBeGreaterThanOrEqual(1);
  });

  it("includes the process metrics", () => {
    expect(sample("process_cpu_user_seconds_total")).toBeGreaterThan(0);
    expect(metrics).toContain("nodejs_heap_size_used_bytes");
  });
});
