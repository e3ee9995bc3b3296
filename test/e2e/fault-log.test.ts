import { Code } from "@connectrpc/connect";
import { expect, it } from "vitest";
import { KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { callError, connectRoute } from "../support/clients.js";
import { startTestKeyward } from "../support/keyward.js";
import { startPrivateRedis } from "../support/redis.js";

const K = KeyService.method;
const VERIFICATIONS_PER_PORT = 250;
const AT_ONCE = 25;

it("issue 9 item 11i: a Redis outage under KEYWARD_RATELIMIT_FALLBACK=deny logs a few lines, not one per verification, while metrics count every call", async () => {
  const redis = await startPrivateRedis();
  // At info, as in production: at debug every call has a line of its own, by design.
  const keyward = await startTestKeyward({
    REDIS_URL: redis.url,
    KEYWARD_RATELIMIT_FALLBACK: "deny",
    KEYWARD_LOG_LEVEL: "info",
  });
  const [grpc, http] = [connectRoute("grpc-js → gRPC port", keyward), connectRoute("connect → HTTP port", keyward)];
  const clients = [grpc, http];
  try {
    const { key } = await grpc.call(K.createKey, {
      name: "limited",
      ratelimits: [{ name: "requests", limit: 1_000_000n, duration: { seconds: 60n } }],
    });
    await redis.stop();
    const linesBefore = keyward.logs.length;
    for (const client of clients) {
      for (let sent = 0; sent < VERIFICATIONS_PER_PORT; sent += AT_ONCE) {
        const errors = await Promise.all(
          Array.from({ length: AT_ONCE }, () => callError(client.call(K.verifyKey, { key }))),
        );
        for (const error of errors) expect(error).toEqual({ code: Code.Unavailable, message: "Redis is unavailable" });
      }
    }
    const during = keyward.logs.slice(linesBefore).map((line) => JSON.parse(line));
    expect(during.length).toBeLessThanOrEqual(5);
    const first = during.find((line) => line.msg === "call failed");
    expect(first).toMatchObject({ rpc: "keyward.v1.KeyService/VerifyKey", code: "UNAVAILABLE" });
    expect(JSON.stringify(first.err)).toContain("StoreUnavailableError");

    const metrics = await (await fetch(`http://127.0.0.1:${keyward.httpPort}/metrics`)).text();
    expect(metrics).toContain(
      `keyward_rpc_duration_seconds_count{method="keyward.v1.KeyService/VerifyKey",code="UNAVAILABLE"} ${2 * VERIFICATIONS_PER_PORT}`,
    );
  } finally {
    for (const client of clients) client.close();
    await keyward.stop();
    await redis.stop();
  }
  // What was held back is summed up, at the latest when the process stops.
  const summary = keyward.logs
    .map((line) => JSON.parse(line))
    .find((line) => line.rpc === "keyward.v1.KeyService/VerifyKey" && line.suppressed !== undefined);
  expect(summary).toMatchObject({ code: "UNAVAILABLE", suppressed: 2 * VERIFICATIONS_PER_PORT - 1 });
});
