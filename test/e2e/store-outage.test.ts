import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { LIVENESS_SERVICE } from "../../src/transport/grpc-listener.js";
import { callError, connectRoute, type RouteClient } from "../support/clients.js";
import { startTestKeyward, type TestKeyward } from "../support/keyward.js";
import { startTestMongo, type TestMongo } from "../support/mongo.js";

const { createKey, getKey, verifyKey } = KeyService.method;

let mongo: TestMongo;
let keyward: TestKeyward;
let grpc: RouteClient;
let http: RouteClient;
let secret: string;

beforeAll(async () => {
  mongo = await startTestMongo();
  keyward = await startTestKeyward(
    { MONGODB_URI: mongo.uri, MONGODB_DATABASE: mongo.database },
    { healthRefreshMs: 200 },
  );
  grpc = connectRoute("grpc-js → gRPC port", keyward);
  http = connectRoute("connect → HTTP port", keyward);
  secret = (await grpc.call(createKey, { name: "before the outage" })).key;
});
afterAll(async () => {
  grpc.close();
  http.close();
  await keyward.stop();
  await mongo.stop();
});

describe("when MongoDB goes away", () => {
  it("is ready while MongoDB answers", async () => {
    const ready = await fetch(`http://127.0.0.1:${keyward.httpPort}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, dependencies: { mongodb: "ok" } });
    const metrics = await (await fetch(`http://127.0.0.1:${keyward.httpPort}/metrics`)).text();
    expect(metrics).toContain('keyward_dependency_up{dependency="mongodb"} 1');
    expect(metrics).toMatch(/keyward_dependency_ping_seconds_count\{dependency="mongodb"\} [1-9]/);
  });

  it("answers UNAVAILABLE on both ports, with the driver's details only in the logs", async () => {
    // Stopping the stand-in loses its data; this suite ends with the outage.
    await mongo.stop();
    for (const client of [grpc, http]) {
      for (const call of [
        () => client.call(createKey, { name: "during the outage" }),
        () => client.call(getKey, { keyId: "key_01ZZZZZZZZZZZZZZZZZZZZZZZZ" }),
        () => client.call(verifyKey, { key: secret }),
      ]) {
        expect(await callError(call())).toEqual({ code: Code.Unavailable, message: "MongoDB is unavailable" });
      }
    }
    const failures = keyward.logs.map((line) => JSON.parse(line)).filter((line) => line.code === "Unavailable");
    expect(failures.length).toBeGreaterThanOrEqual(6);
    expect(JSON.stringify(failures[0]?.err)).toMatch(/Mongo\w*Error/);
  });

  it("fails /readyz and the gRPC health check, while /healthz and the liveness service still say the process lives", async () => {
    const ready = await fetch(`http://127.0.0.1:${keyward.httpPort}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ ready: false, dependencies: { mongodb: "unavailable" } });
    expect((await fetch(`http://127.0.0.1:${keyward.httpPort}/healthz`)).status).toBe(200);
    expect(await (await fetch(`http://127.0.0.1:${keyward.httpPort}/metrics`)).text()).toContain(
      'keyward_dependency_up{dependency="mongodb"} 0',
    );
    await expect
      .poll(async () => (await grpc.call(Health.method.check, {})).status, { timeout: 5_000 })
      .toBe(HealthCheckResponse_ServingStatus.NOT_SERVING);
    expect((await grpc.call(Health.method.check, { service: LIVENESS_SERVICE })).status).toBe(
      HealthCheckResponse_ServingStatus.SERVING,
    );
  });
});
