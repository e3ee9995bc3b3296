import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditService } from "../../gen/keyward/v1/audit_service_pb.js";
import { KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { KeyspaceService } from "../../gen/keyward/v1/keyspace_service_pb.js";
import { BOOTSTRAP_KEY_ID } from "../../src/composition/bootstrap.js";
import { callError, connectRoute, type RouteClient } from "../support/clients.js";
import { startTestKeyward, type TestKeyward } from "../support/keyward.js";

const K = KeyService.method;
const { listAuditEvents } = AuditService.method;

let keyward: TestKeyward;
let admin: RouteClient;
let auditor: RouteClient;
let secrets: string[];
let alphaKeyId: string;

beforeAll(async () => {
  keyward = await startTestKeyward({ KEYWARD_AUDIT_REFUSAL_INTERVAL_MS: "100" });
  admin = connectRoute("connect → HTTP port", keyward);
  await admin.call(KeyspaceService.method.createKeyspace, { keyspaceId: "alpha", name: "alpha" });
  const created = await admin.call(K.createKey, { keyspaceId: "alpha", name: "audited" });
  alphaKeyId = created.keyId;
  await admin.call(K.updateKey, { keyId: alphaKeyId, updateMask: { paths: ["name"] }, name: "renamed" });
  const rerolled = await admin.call(K.rerollKey, { keyId: alphaKeyId });
  await admin.call(K.verifyKey, { key: rerolled.key });
  await admin.call(K.revokeKey, { keyId: alphaKeyId, reason: "done" });
  const auditorKey = await admin.call(K.createKey, {
    keyspaceId: "root",
    name: "alpha auditor",
    permissions: ["keyspace.alpha.read_audit"],
  });
  secrets = [created.key, rerolled.key, auditorKey.key, keyward.rootKey];
  auditor = connectRoute("grpc-js → gRPC port", keyward, auditorKey.key);
  // A refused call, from the auditor itself.
  await callError(auditor.call(K.deleteKey, { keyId: alphaKeyId }));
});
afterAll(async () => {
  admin.close();
  auditor.close();
  await keyward.stop();
});

describe("the audit log", () => {
  it("records who did what, when, to which key, how it ended and from where, newest first", async () => {
    const { events } = await admin.call(listAuditEvents, { keyId: alphaKeyId });
    expect(events.map((event) => [event.action, event.outcome])).toEqual([
      ["DeleteKey", "PERMISSION_DENIED"],
      ["RevokeKey", "OK"],
      ["RerollKey", "OK"],
      ["UpdateKey", "OK"],
      ["CreateKey", "OK"],
    ]);
    const revoke = events[1];
    expect(revoke).toMatchObject({ actorKeyId: BOOTSTRAP_KEY_ID, keyspaceId: "alpha", keyId: alphaKeyId });
    expect(revoke?.peer).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(revoke?.requestId).not.toBe("");
    expect(Date.now() - Number(revoke?.time?.seconds ?? 0n) * 1000).toBeLessThan(60_000);
    expect(events[0]?.actorKeyId).not.toBe(BOOTSTRAP_KEY_ID);
  });

  it("does not record verifications (they are not management calls)", async () => {
    const { events } = await admin.call(listAuditEvents, { action: "VerifyKey" });
    expect(events).toEqual([]);
  });

  it("records callers that fail to authenticate, without an actor, summed up per address within an interval", async () => {
    await callError(admin.call(K.listKeys, {}, { authorization: "Bearer nonsense" }));
    const latest = async () => (await admin.call(listAuditEvents, { action: "ListKeys", pageSize: 1 })).events[0];
    await expect
      .poll(latest)
      .toMatchObject({ actorKeyId: "", outcome: "UNAUTHENTICATED", peer: "127.0.0.1", count: 1 });
  });

  it("says each management call stands for one call", async () => {
    const { events } = await admin.call(listAuditEvents, { actorKeyId: BOOTSTRAP_KEY_ID });
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((event) => event.count === 1)).toBe(true);
  });

  it("never holds a secret", async () => {
    const text = JSON.stringify((await admin.call(listAuditEvents, { pageSize: 1000 })).events, (_, value) =>
      typeof value === "bigint" ? String(value) : value,
    );
    for (const secret of secrets) expect(text.includes(secret.slice(secret.lastIndexOf("_") + 1))).toBe(false);
  });

  it("pages with tokens and filters by actor and time", async () => {
    const first = await admin.call(listAuditEvents, { actorKeyId: BOOTSTRAP_KEY_ID, pageSize: 2 });
    const second = await admin.call(listAuditEvents, {
      actorKeyId: BOOTSTRAP_KEY_ID,
      pageSize: 2,
      pageToken: first.nextPageToken,
    });
    expect(first.events).toHaveLength(2);
    expect((second.events[0]?.eventId ?? "") < (first.events[1]?.eventId ?? "")).toBe(true);
    const future = { seconds: BigInt(Math.floor(Date.now() / 1000) + 3600) };
    expect((await admin.call(listAuditEvents, { startTime: future })).events).toEqual([]);
  });

  it("shows a scoped auditor its keyspace only", async () => {
    const own = await auditor.call(listAuditEvents, { keyspaceId: "alpha" });
    expect(own.events.length).toBeGreaterThan(0);
    expect(own.events.every((event) => event.keyspaceId === "alpha")).toBe(true);
    expect(await callError(auditor.call(listAuditEvents, { keyspaceId: "default" }))).toEqual({
      code: Code.PermissionDenied,
      message: "permission denied: needs keyspace.default.read_audit",
    });
    const unfiltered = await auditor.call(listAuditEvents, {});
    expect(unfiltered.events.every((event) => event.keyspaceId === "alpha")).toBe(true);
  });
});
