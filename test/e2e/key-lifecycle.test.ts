import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VerifyCode } from "../../gen/keyward/v1/key_pb.js";
import { KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { KeyspaceService } from "../../gen/keyward/v1/keyspace_service_pb.js";
import { callError, connectRoute, ROUTES, type RouteClient } from "../support/clients.js";
import { startTestKeyward, type TestKeyward } from "../support/keyward.js";

const { createKey, getKey, listKeys, updateKey, verifyKey, revokeKey, rerollKey, deleteKey } = KeyService.method;

let keyward: TestKeyward;
beforeAll(async () => {
  keyward = await startTestKeyward();
  const admin = connectRoute("grpc-js → gRPC port", keyward);
  await admin.call(KeyspaceService.method.createKeyspace, { keyspaceId: "billing", name: "Billing API" });
  admin.close();
});
afterAll(async () => {
  await keyward.stop();
});

describe.each(ROUTES)("key lifecycle over %s", (route) => {
  let client: RouteClient;
  beforeAll(() => {
    client = connectRoute(route, keyward);
  });
  afterAll(() => client.close());

  it("creates, verifies, revokes, and then refuses the key", async () => {
    const created = await client.call(createKey, { name: "billing service", ownerId: "user_42", prefix: "sk_live" });
    expect(created.keyId).toMatch(/^key_[0-9A-Z]{26}$/);
    expect(created.key).toMatch(/^sk_live_/);

    const valid = await client.call(verifyKey, { key: created.key });
    expect(valid).toMatchObject({ valid: true, code: VerifyCode.VALID, keyId: created.keyId, ownerId: "user_42" });

    const revoked = await client.call(revokeKey, { keyId: created.keyId, reason: "leaked in a log" });
    expect(revoked.key).toMatchObject({ revoked: true, revocationReason: "leaked in a log" });
    expect(revoked.key?.revokedAt).toBeDefined();

    const refused = await client.call(verifyKey, { key: created.key });
    expect(refused).toMatchObject({ valid: false, code: VerifyCode.REVOKED, keyId: created.keyId });
  });

  it("answers NOT_FOUND for a mistyped key and for a well-formed unknown one", async () => {
    const { key } = await client.call(createKey, { name: "typo target" });
    const typo = key.slice(0, -1) + (key.endsWith("A") ? "B" : "A");
    expect(await client.call(verifyKey, { key: typo })).toMatchObject({
      valid: false,
      code: VerifyCode.NOT_FOUND,
      keyId: "",
    });
    const { key: other } = await client.call(createKey, { name: "to delete" });
    const { keyId } = await client.call(verifyKey, { key: other });
    await client.call(deleteKey, { keyId });
    expect(await client.call(verifyKey, { key: other })).toMatchObject({ valid: false, code: VerifyCode.NOT_FOUND });
  });

  it("returns every field it was given", async () => {
    const expiresAt = timestampFromMs(Date.UTC(2099, 0, 1));
    const { keyId } = await client.call(createKey, {
      keyspaceId: "billing",
      name: "full",
      description: "all the fields",
      ownerId: "user_1",
      orgId: "org_1",
      environment: "live",
      prefix: "bill",
      byteLength: 32,
      expiresAt,
      meta: { plan: "pro", limits: { seats: 5 } },
      scopes: ["read", "write"],
      roles: ["admin"],
      permissions: ["documents.read"],
      createdBy: "ops@example.com",
      remaining: 100n,
      refill: { interval: 2, amount: 100n, refillDay: 1 },
      ratelimits: [{ name: "requests", limit: 10n, duration: { seconds: 60n } }],
    });
    const { key } = await client.call(getKey, { keyId });
    expect(key).toMatchObject({
      keyId,
      keyspaceId: "billing",
      name: "full",
      description: "all the fields",
      ownerId: "user_1",
      orgId: "org_1",
      environment: "live",
      prefix: "bill",
      byteLength: 32,
      enabled: true,
      expired: false,
      meta: { plan: "pro", limits: { seats: 5 } },
      scopes: ["read", "write"],
      roles: ["admin"],
      permissions: ["documents.read"],
      createdBy: "ops@example.com",
      revoked: false,
      remaining: 100n,
      refill: { interval: 2, amount: 100n, refillDay: 1 },
      ratelimits: [{ name: "requests", limit: 10n, duration: { seconds: 60n } }],
    });
    expect(key?.expiresAt).toEqual(expiresAt);
    expect(key?.start).toMatch(/^bill_.{4}$/);
    expect(key?.createdAt).toBeDefined();
  });

  it("lists keys by owner, a page at a time", async () => {
    const ownerId = `owner-${route}`;
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await client.call(createKey, { name: `k${i}`, ownerId })).keyId);
    const first = await client.call(listKeys, { ownerId, pageSize: 2 });
    const second = await client.call(listKeys, { ownerId, pageSize: 2, pageToken: first.nextPageToken });
    const third = await client.call(listKeys, { ownerId, pageSize: 2, pageToken: second.nextPageToken });
    expect([...first.keys, ...second.keys, ...third.keys].map((key) => key.keyId)).toEqual(ids);
    expect(third.nextPageToken).toBe("");
  });

  it("updates only the fields in the mask and clears a listed field that is unset", async () => {
    const { keyId, key } = await client.call(createKey, {
      name: "before",
      description: "kept",
      expiresAt: timestampFromMs(Date.now() + 3_600_000),
    });
    const { key: updated } = await client.call(updateKey, {
      keyId,
      updateMask: { paths: ["name", "expires_at", "enabled"] },
      name: "after",
      description: "ignored: not in the mask",
      enabled: false,
    });
    expect(updated).toMatchObject({ name: "after", description: "kept", enabled: false });
    expect(updated?.expiresAt).toBeUndefined();
    expect(await client.call(verifyKey, { key })).toMatchObject({ valid: false, code: VerifyCode.DISABLED });
    await client.call(updateKey, { keyId, updateMask: { paths: ["enabled"] }, enabled: true });
    expect(await client.call(verifyKey, { key })).toMatchObject({ valid: true, code: VerifyCode.VALID });
  });

  it("rerolls: the new secret works, the old one only through the grace period", async () => {
    const { keyId, key: first } = await client.call(createKey, { name: "rotating" });
    const { key: second } = await client.call(rerollKey, { keyId, gracePeriod: { seconds: 3600n } });
    expect(second).not.toBe(first);
    expect(await client.call(verifyKey, { key: first })).toMatchObject({ valid: true, keyId });
    expect(await client.call(verifyKey, { key: second })).toMatchObject({ valid: true, keyId });

    const { key: third } = await client.call(rerollKey, { keyId });
    expect(await client.call(verifyKey, { key: second })).toMatchObject({ valid: false, code: VerifyCode.REVOKED });
    expect(await client.call(verifyKey, { key: first })).toMatchObject({ valid: true, keyId });
    expect(await client.call(verifyKey, { key: third })).toMatchObject({ valid: true, keyId });
  });

  it("refuses to reroll a revoked key", async () => {
    const { keyId } = await client.call(createKey, { name: "gone" });
    await client.call(revokeKey, { keyId });
    expect(await callError(client.call(rerollKey, { keyId }))).toEqual({
      code: Code.FailedPrecondition,
      message: "key is revoked",
    });
  });

  it("spends one credit per verification and then answers USAGE_EXCEEDED", async () => {
    const { key } = await client.call(createKey, { name: "metered", remaining: 2n });
    expect(await client.call(verifyKey, { key })).toMatchObject({ valid: true, remaining: 1n });
    expect(await client.call(verifyKey, { key })).toMatchObject({ valid: true, remaining: 0n });
    expect(await client.call(verifyKey, { key })).toMatchObject({
      valid: false,
      code: VerifyCode.USAGE_EXCEEDED,
      remaining: 0n,
    });
  });

  it("keeps a revocation as it was when revoked again", async () => {
    const { keyId } = await client.call(createKey, { name: "twice" });
    const first = await client.call(revokeKey, { keyId, reason: "first" });
    const second = await client.call(revokeKey, { keyId, reason: "second" });
    expect(second.key?.revocationReason).toBe("first");
    expect(second.key?.revokedAt).toEqual(first.key?.revokedAt);
  });
});

describe("expiry", () => {
  it("a key that expires one second ahead verifies as EXPIRED two seconds later, on both ports", async () => {
    const clients = (["grpc-js → gRPC port", "connect → HTTP port"] as const).map((route) =>
      connectRoute(route, keyward),
    );
    const keys = await Promise.all(
      clients.map((client) =>
        client.call(createKey, { name: "short-lived", expiresAt: timestampFromMs(Date.now() + 1_000) }),
      ),
    );
    for (const [i, client] of clients.entries()) {
      expect(await client.call(verifyKey, { key: keys[i]?.key ?? "" })).toMatchObject({ valid: true });
    }
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    for (const [i, client] of clients.entries()) {
      expect(await client.call(verifyKey, { key: keys[i]?.key ?? "" })).toMatchObject({
        valid: false,
        code: VerifyCode.EXPIRED,
      });
      const { key } = await client.call(getKey, { keyId: keys[i]?.keyId ?? "" });
      expect(key?.expired).toBe(true);
      client.close();
    }
  });
});
