import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { KeyspaceService } from "../../gen/keyward/v1/keyspace_service_pb.js";
import { callError, connectRoute, ROUTES } from "../support/clients.js";
import { startTestKeyward, type TestKeyward } from "../support/keyward.js";
import { largestValidRequests, longKeyspaceId } from "../support/largest-requests.js";

const KS = KeyspaceService.method;

let keyward: TestKeyward;
beforeAll(async () => {
  keyward = await startTestKeyward();
});
afterAll(async () => {
  await keyward.stop();
});

/** Issue 9 item 11h: 100,000 roles used to answer "Maximum call stack size exceeded". */
const manyRoles = Array.from({ length: 100_000 }, (_, i) => ({ name: `r${i}` }));

describe("issue 9 item 11h: requests past the bounds", () => {
  it.each(ROUTES)(
    "issue 9 item 11h: CreateKeyspace with 100,000 roles is INVALID_ARGUMENT naming roles (%s)",
    async (route) => {
      const client = connectRoute(route, keyward);
      const error = await callError(
        client.call(KS.createKeyspace, { keyspaceId: "many", name: "n", roles: manyRoles }),
      );
      client.close();
      expect(error.code).toBe(Code.InvalidArgument);
      expect(error.message).toMatch(/^roles: /);
    },
  );

  it.each(ROUTES)(
    "issue 9 item 11h: UpdateKeyspace with 100,000 roles is INVALID_ARGUMENT naming roles (%s)",
    async (route) => {
      const client = connectRoute(route, keyward);
      const error = await callError(
        client.call(KS.updateKeyspace, { keyspaceId: "default", updateMask: { paths: ["roles"] }, roles: manyRoles }),
      );
      client.close();
      expect(error.code).toBe(Code.InvalidArgument);
      expect(error.message).toMatch(/^roles: /);
    },
  );

  it.each(ROUTES)(
    "issue 9 item 11h: CreateKey with 100,000 rate limits is INVALID_ARGUMENT naming ratelimits (%s)",
    async (route) => {
      const client = connectRoute(route, keyward);
      // Empty ones, so that 100,000 stay inside the size limit (MAX_REQUEST_BYTES): each breaks three rules.
      const ratelimits = Array.from({ length: 100_000 }, () => ({}));
      const error = await callError(client.call(KeyService.method.createKey, { name: "n", ratelimits }));
      client.close();
      expect(error.code).toBe(Code.InvalidArgument);
      expect(error.message).toMatch(/^ratelimits: /);
    },
  );
});

describe("issue 9 item 11h: the largest valid request of each method", () => {
  it.each(["grpc-js → gRPC port", "connect → HTTP port"] as const)("is served (%s)", async (route) => {
    const client = connectRoute(route, keyward);
    const existing = await client.call(KeyService.method.createKey, { name: "target", remaining: 1n });
    // 100 roles of 100 permissions of 128 characters are more than a transport reads (MAX_REQUEST_BYTES);
    // here each permission of a role has 64, the rest is at its bound.
    const requests = largestValidRequests({
      keyId: existing.keyId,
      keyspaceId: longKeyspaceId(route.startsWith("grpc") ? "grpc" : "http"),
      wide: false,
      rolePermissionLength: 64,
    });
    for (const { method, request } of requests) {
      const outcome = await client.call(method, request as never).then(
        () => "ok",
        (error: unknown) => String(error),
      );
      // Validation passes; what follows may refuse for reasons of its own (no such key to verify).
      expect(outcome, method.name).not.toMatch(/invalid_argument|resource_exhausted|internal/i);
    }
    client.close();
  });
});
