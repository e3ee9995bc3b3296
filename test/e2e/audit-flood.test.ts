import { Code } from "@connectrpc/connect";
import { type Collection, type Document, MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditService } from "../../gen/keyward/v1/audit_service_pb.js";
import { KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { BOOTSTRAP_KEY_ID } from "../../src/composition/bootstrap.js";
import { callError, connectRoute, type RouteClient } from "../support/clients.js";
import { startTestKeyward, type TestKeyward } from "../support/keyward.js";
import { startTestMongo, type TestMongo } from "../support/mongo.js";

/**
 * Callers without a valid root key flooding the management methods. Keyward
 * runs on MongoDB here (the stand-in, or MONGODB_URI), so the test can count
 * what reached the audit collection, also after Keyward has stopped. Every
 * write inserts at least one event, so the number of events bounds the number
 * of writes.
 */
const K = KeyService.method;
const { listAuditEvents } = AuditService.method;
const AT_ONCE = 50;
const BAD_ROOT_KEY = { authorization: "Bearer nonsense" };

let mongo: TestMongo;
let client: MongoClient;
let events: Collection<Document>;
beforeAll(async () => {
  mongo = await startTestMongo();
  client = new MongoClient(mongo.uri);
  events = client.db(mongo.database).collection("audit_events");
});
afterAll(async () => {
  await client?.close();
  await mongo?.stop();
});

async function startOnMongo(env: Record<string, string>): Promise<TestKeyward> {
  return startTestKeyward({ MONGODB_URI: mongo.uri, MONGODB_DATABASE: mongo.database, ...env });
}

/** `total` ListKeys calls with a bad root key, split over the given routes, AT_ONCE at a time on each. */
async function flood(routes: RouteClient[], total: number, sent: { count: number } = { count: 0 }): Promise<Code[]> {
  const codes: Code[] = [];
  await Promise.all(
    routes.map(async (route) => {
      for (let done = 0; done < total / routes.length; done += AT_ONCE) {
        const errors = await Promise.all(
          Array.from({ length: AT_ONCE }, async () => {
            const error = await callError(route.call(K.listKeys, {}, BAD_ROOT_KEY));
            sent.count += 1;
            return error;
          }),
        );
        codes.push(...errors.map((error) => error.code));
      }
    }),
  );
  return codes;
}

/** The events written for ListKeys calls without an actor, newest first. */
const refusalsInStore = () =>
  events
    .find({ action: "ListKeys", actorKeyId: "" }, { projection: { _id: 0 } })
    .sort({ eventId: -1 })
    .toArray();

describe("issue 9 item 7: refusals before authentication", () => {
  it("issue 9 item 7: 2,000 unauthenticated calls on both ports write a handful of events, and a management call during the flood succeeds and is audited", async () => {
    await events.deleteMany({});
    const keyward = await startOnMongo({ KEYWARD_AUDIT_REFUSAL_INTERVAL_MS: "3600000" });
    const [grpc, http] = [connectRoute("grpc-js → gRPC port", keyward), connectRoute("connect → HTTP port", keyward)];
    const routes = [grpc, http];
    try {
      const written = await events.countDocuments();
      const sent = { count: 0 };
      const flooding = flood(routes, 2_000, sent);
      // Management calls on both ports while the flood runs.
      await expect.poll(() => sent.count, { interval: 5, timeout: 20_000 }).toBeGreaterThanOrEqual(200);
      const created = await Promise.all(
        routes.map((route, i) => route.call(K.createKey, { name: `during the flood ${i}` })),
      );
      const codes = await flooding;
      expect(codes).toEqual(Array(2_000).fill(Code.Unauthenticated));

      expect((await events.countDocuments()) - written).toBeLessThanOrEqual(5);
      for (const { keyId } of created) {
        const { events: audited } = await grpc.call(listAuditEvents, { keyId });
        expect(audited).toMatchObject([{ action: "CreateKey", outcome: "OK", actorKeyId: BOOTSTRAP_KEY_ID, count: 1 }]);
      }
    } finally {
      for (const route of routes) route.close();
      await keyward.stop();
    }
    // Stopping wrote what was held back: one event for the address, method and outcome, both ports together.
    expect(await refusalsInStore()).toMatchObject([
      { actorKeyId: "", action: "ListKeys", outcome: "UNAUTHENTICATED", peer: "127.0.0.1", count: 2_000 },
    ]);
  });

  it("issue 9 item 7: refusals by the auth-failure limiter are summed up per outcome too", async () => {
    await events.deleteMany({});
    const keyward = await startOnMongo({
      KEYWARD_AUTH_FAILURES_PER_MINUTE: "10",
      KEYWARD_AUDIT_REFUSAL_INTERVAL_MS: "3600000",
    });
    const routes = [connectRoute("grpc-js → gRPC port", keyward), connectRoute("connect → HTTP port", keyward)];
    try {
      const codes = await flood(routes, 400);
      expect(codes.filter((code) => code === Code.Unauthenticated)).toHaveLength(10);
      expect(codes.filter((code) => code === Code.ResourceExhausted)).toHaveLength(390);
    } finally {
      for (const route of routes) route.close();
      await keyward.stop();
    }
    const refusals = await refusalsInStore();
    expect(refusals).toHaveLength(2);
    expect(refusals).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ outcome: "UNAUTHENTICATED", peer: "127.0.0.1", count: 10 }),
        expect.objectContaining({ outcome: "RESOURCE_EXHAUSTED", peer: "127.0.0.1", count: 390 }),
      ]),
    );
  });

  it("issue 9 item 7: ListAuditEvents shows a summed-up refusal, with how many calls it stands for, on both ports", async () => {
    const keyward = await startTestKeyward({ KEYWARD_AUDIT_REFUSAL_INTERVAL_MS: "200" });
    const routes = [connectRoute("grpc-js → gRPC port", keyward), connectRoute("connect → HTTP port", keyward)];
    try {
      await flood(routes, 100);
      for (const route of routes) {
        const listed = async () =>
          (await route.call(listAuditEvents, { action: "ListKeys" })).events.filter((event) => event.actorKeyId === "");
        const total = async () => (await listed()).reduce((sum, event) => sum + event.count, 0);
        await expect.poll(total, { timeout: 5_000 }).toBe(100);
        // One event per interval the flood spanned (200 ms each), not one per call.
        const summed = await listed();
        expect(summed.length).toBeLessThanOrEqual(10);
        for (const event of summed) {
          expect(event).toMatchObject({
            action: "ListKeys",
            outcome: "UNAUTHENTICATED",
            peer: "127.0.0.1",
            keyspaceId: "",
          });
          expect(event.eventId).toMatch(/^evt_/);
          expect(event.requestId).not.toBe("");
        }
      }
    } finally {
      for (const route of routes) route.close();
      await keyward.stop();
    }
  });
});
