import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { LIVENESS_SERVICE } from "../../src/transport/grpc/grpc-listener.js";
import { callError, connectRoute, type RouteClient } from "../support/clients.js";
import { startTestKeyward, type TestKeyward } from "../support/keyward.js";
import { startTestMongo, type TestMongo } from "../support/mongo.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";

const { createKey, getKey, listKeys, verifyKey } = KeyService.method;

let mongo: TestMongo;
let proxy: TcpProxy;
let keyward: TestKeyward;
let grpc: RouteClient;
let http: RouteClient;
let secret: string;
let keysBefore: unknown;

/**
 * The MongoDB URI through a proxy the test can cut: an outage that loses no data, on the stand-in
 * and on a real server alike. A single host only (what MONGODB_URI points tests at).
 */
function throughProxy(uri: string, port: number): string {
  const url = new URL(uri);
  url.host = `127.0.0.1:${port}`;
  url.searchParams.set("directConnection", "true");
  return url.toString();
}

beforeAll(async () => {
  mongo = await startTestMongo();
  proxy = await startTcpProxy(Number(new URL(mongo.uri).port || 27017));
  keyward = await startTestKeyward(
    { MONGODB_URI: throughProxy(mongo.uri, proxy.port), MONGODB_DATABASE: mongo.database },
    { healthRefreshMs: 200 },
  );
  grpc = connectRoute("grpc-js → gRPC port", keyward);
  http = connectRoute("connect → HTTP port", keyward);
  secret = (await grpc.call(createKey, { name: "before the outage" })).key;
  keysBefore = (await grpc.call(listKeys, { pageSize: 1000 })).keys;
});
afterAll(async () => {
  grpc.close();
  http.close();
  await keyward.stop();
  await proxy.close();
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
    proxy.cut();
    const errors = await Promise.all(
      [grpc, http].flatMap((client) => [
        callError(client.call(createKey, { name: "during the outage" })),
        callError(client.call(getKey, { keyId: "key_01ZZZZZZZZZZZZZZZZZZZZZZZZ" })),
        callError(client.call(verifyKey, { key: secret })),
      ]),
    );
    for (const error of errors) expect(error).toEqual({ code: Code.Unavailable, message: "MongoDB is unavailable" });
    const failures = keyward.logs.map((line) => JSON.parse(line)).filter((line) => line.code === "UNAVAILABLE");
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

  it("changed nothing, and serves again once MongoDB is back", async () => {
    proxy.restore();
    const ready = () => fetch(`http://127.0.0.1:${keyward.httpPort}/readyz`).then((response) => response.status);
    await expect.poll(ready, { timeout: 20_000, interval: 200 }).toBe(200);
    expect((await grpc.call(listKeys, { pageSize: 1000 })).keys).toEqual(keysBefore);
    expect(await http.call(verifyKey, { key: secret })).toMatchObject({ valid: true });
  });
});
