import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { RateLimitRequestSchema, RateLimitService } from "../../gen/envoy/service/ratelimit/v3/rls_pb.js";
import { MemoryKeyStore } from "../../src/adapters/memory/memory-key-store.js";
import { MemoryRateLimiter } from "../../src/adapters/memory/memory-rate-limiter.js";
import type { Call } from "../../src/chain/call.js";
import { createRatelimitService } from "../../src/envoy/ratelimit-service.js";
import { createLogger } from "../../src/observability/logger.js";
import { createVerifierScopes } from "../../src/verification/verifier-scope.js";
import { countingKeyStore } from "../support/counting-key-store.js";
import { sampleRecord } from "../support/records.js";

const call: Call = {
  method: RateLimitService.method.shouldRateLimit,
  peer: "test",
  requestId: "test",
  header: () => undefined,
};

describe("ShouldRateLimit's key descriptors", () => {
  it("issue 9 item 6: cost one store read per key, whatever the descriptors, and none for values that are no key id", async () => {
    const { store, calls } = countingKeyStore(new MemoryKeyStore());
    const key = sampleRecord({
      keyId: "key_01ARZ3NDEKTSV4RRFFQ69G5FAV",
      ratelimits: [{ name: "r", limit: 5, durationMs: 60_000 }],
    });
    await store.insert(key);
    const service = createRatelimitService({
      config: { domain: "edge", descriptors: [{ key: "x-keyward-key-id", shadowMode: false, descriptors: [] }] },
      limiter: new MemoryRateLimiter(),
      keys: store,
      scopeOf: createVerifierScopes({ unauthenticatedKeyspaces: ["default"], rootKeys: false }),
      maxCountersPerRule: 100,
      clock: Date.now,
      logger: createLogger("silent"),
      metrics: { ratelimit: () => {} },
    });
    const descriptor = (value: string) => ({ entries: [{ key: "x-keyward-key-id", value }] });
    const request = create(RateLimitRequestSchema, {
      domain: "edge",
      descriptors: [
        ...Array.from({ length: 30 }, () => descriptor(key.keyId)),
        ...Array.from({ length: 30 }, (_, i) => descriptor(`junk-${i}`)),
      ],
    });
    const answer = await service.shouldRateLimit(request, call);
    expect(answer.statuses?.filter((status) => status.currentLimit).length).toBe(30);
    expect(calls.get).toBe(1);
  });
});
