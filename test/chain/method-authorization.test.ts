import { create, type DescMethodUnary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { Authorization } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { RateLimitService } from "../../gen/envoy/service/ratelimit/v3/rls_pb.js";
import { AuditService } from "../../gen/keyward/v1/audit_service_pb.js";
import { KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { KeyspaceService } from "../../gen/keyward/v1/keyspace_service_pb.js";
import type { Principal } from "../../src/auth/principal.js";
import type { Call } from "../../src/chain/call.js";
import { createMethodAuthorization, METHOD_ACTIONS } from "../../src/chain/method-authorization.js";

const served = [KeyService, KeyspaceService, AuditService, Authorization, RateLimitService].flatMap(
  (service) => service.methods as DescMethodUnary[],
);

/** Runs one call through the step; answers what it did: passed the call on, or refused it (and how). */
async function outcome(method: DescMethodUnary, principal: Principal | undefined, needsPrincipal = true) {
  let passedOn = false;
  const step = createMethodAuthorization({ needsPrincipal: () => needsPrincipal })(async () => {
    passedOn = true;
    return {};
  }, method);
  const call = { method, principal } as Call;
  const error = await step(create(method.input), call).then(
    () => undefined,
    (failure: unknown) => failure,
  );
  return { passedOn, error };
}

const holding = (...permissions: string[]): Principal => ({ keyId: "key_root", permissions });

describe("issue 9 item 9: the method-authorization step", () => {
  it("knows the action of every method either port serves", () => {
    expect(served.filter((method) => !METHOD_ACTIONS.has(method)).map((method) => method.name)).toEqual([]);
  });

  it("refuses to bind a method it does not know", () => {
    const unknown = { ...KeyService.method.getKey, name: "Unknown" } as DescMethodUnary;
    expect(() => createMethodAuthorization({ needsPrincipal: () => true })(async () => ({}), unknown)).toThrow(
      /no action/,
    );
  });

  it.each([
    [`createKey needs create_key in some keyspace`, KeyService.method.createKey, "create_key"],
    [`getKey needs read_key in some keyspace`, KeyService.method.getKey, "read_key"],
    [`listKeys needs read_key in some keyspace`, KeyService.method.listKeys, "read_key"],
    [`updateKey needs update_key in some keyspace`, KeyService.method.updateKey, "update_key"],
    [`rerollKey needs update_key in some keyspace`, KeyService.method.rerollKey, "update_key"],
    [`updateCredits needs update_key in some keyspace`, KeyService.method.updateCredits, "update_key"],
    [`revokeKey needs revoke_key in some keyspace`, KeyService.method.revokeKey, "revoke_key"],
    [`deleteKey needs delete_key in some keyspace`, KeyService.method.deleteKey, "delete_key"],
    [`verifyKey needs verify_key in some keyspace`, KeyService.method.verifyKey, "verify_key"],
    [`check needs verify_key in some keyspace`, Authorization.method.check, "verify_key"],
    [`shouldRateLimit needs verify_key in some keyspace`, RateLimitService.method.shouldRateLimit, "verify_key"],
    [`createKeyspace needs create in some keyspace`, KeyspaceService.method.createKeyspace, "create"],
    [`getKeyspace needs read in some keyspace`, KeyspaceService.method.getKeyspace, "read"],
    [`listKeyspaces needs read in some keyspace`, KeyspaceService.method.listKeyspaces, "read"],
    [`updateKeyspace needs update in some keyspace`, KeyspaceService.method.updateKeyspace, "update"],
    [`listAuditEvents needs read_audit in some keyspace`, AuditService.method.listAuditEvents, "read_audit"],
  ] as const)("%s", async (_, method, action) => {
    const others = ["create_key", "read_key", "update_key", "revoke_key", "delete_key", "verify_key"]
      .concat(["create", "read", "update", "read_audit"])
      .filter((other) => other !== action)
      .map((other) => `keyspace.*.${other}`);
    const refused = await outcome(method, holding(...others, `keyspace.root.${action}x`));
    expect(refused.passedOn).toBe(false);
    expect(ConnectError.from(refused.error)).toMatchObject({
      code: Code.PermissionDenied,
      rawMessage: "permission denied",
    });
    for (const grant of [`keyspace.billing.${action}`, `keyspace.*.${action}`, "keyspace.billing.*"]) {
      expect(await outcome(method, holding(grant)), grant).toEqual({ passedOn: true, error: undefined });
    }
  });

  it("names the target of a refused call for the audit log, when the (unvalidated) request names it well-formed", async () => {
    const refuse = async (method: DescMethodUnary, request: object) => {
      const call = { method, principal: holding() } as Call;
      const step = createMethodAuthorization({ needsPrincipal: () => true })(async () => ({}), method);
      await step(create(method.input, request as never), call).catch(() => {});
      return call.target;
    };
    const keyId = "key_01JD7Z4V0S8F3QJ4M2W6XK9P5R";
    expect(await refuse(KeyService.method.deleteKey, { keyId })).toEqual({ keyId });
    expect(await refuse(KeyService.method.createKey, { keyspaceId: "billing" })).toEqual({ keyspaceId: "billing" });
    expect(await refuse(KeyService.method.deleteKey, { keyId: `${keyId}${"x".repeat(10_000)}` })).toEqual({});
    expect(await refuse(KeyspaceService.method.getKeyspace, { keyspaceId: "Not An Id" })).toEqual({});
  });

  it("lets a call without a principal through only where none is needed (verification under KEYWARD_VERIFY_AUTH=none)", async () => {
    expect(await outcome(KeyService.method.verifyKey, undefined, false)).toEqual({ passedOn: true, error: undefined });
    const unauthenticated = await outcome(KeyService.method.getKey, undefined, true);
    expect(unauthenticated.passedOn).toBe(false);
    expect(unauthenticated.error).toBeInstanceOf(Error);
  });
});
