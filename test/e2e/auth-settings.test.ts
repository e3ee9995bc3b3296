import { Code } from "@connectrpc/connect";
import { afterAll, describe, expect, it } from "vitest";
import { VerifyCode } from "../../gen/keyward/v1/key_pb.js";
import { KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { generateKey } from "../../src/keys/key-material.js";
import { callError, connectRoute, type RouteClient } from "../support/clients.js";
import { startTestKeyward, type TestKeyward } from "../support/keyward.js";

const { createKey, verifyKey, listKeys } = KeyService.method;
const running: { keyward: TestKeyward; clients: RouteClient[] }[] = [];
afterAll(async () => {
  for (const { keyward, clients } of running) {
    for (const client of clients) client.close();
    await keyward.stop();
  }
});

async function start(env: Record<string, string>) {
  const keyward = await startTestKeyward(env);
  const admin = connectRoute("grpc-js → gRPC port", keyward);
  const anonymous = connectRoute("grpc-js → gRPC port", keyward, "");
  running.push({ keyward, clients: [admin, anonymous] });
  return { keyward, admin, anonymous };
}

describe("KEYWARD_AUTH_FAILURES_PER_MINUTE", () => {
  it("answers a guessing loop with RESOURCE_EXHAUSTED, even for a right key, until the minute is over", async () => {
    const { admin, anonymous } = await start({ KEYWARD_AUTH_FAILURES_PER_MINUTE: "5" });
    const guess = () => ({ authorization: `Bearer ${generateKey("kw_root", 32)}` });
    for (let i = 0; i < 5; i++) {
      expect(await callError(anonymous.call(listKeys, {}, guess()))).toMatchObject({ code: Code.Unauthenticated });
    }
    expect(await callError(anonymous.call(listKeys, {}, guess()))).toEqual({
      code: Code.ResourceExhausted,
      message: "too many failed authentications from this address; try again later",
    });
    expect(await callError(admin.call(listKeys, {}))).toMatchObject({ code: Code.ResourceExhausted });
  });

  it("issue 9 item 11a: counts calls that send no key at all", async () => {
    const { admin, anonymous } = await start({ KEYWARD_AUTH_FAILURES_PER_MINUTE: "2" });
    for (let i = 0; i < 2; i++) {
      expect(await callError(anonymous.call(listKeys, {}))).toMatchObject({ code: Code.Unauthenticated });
    }
    expect(await callError(admin.call(listKeys, {}))).toMatchObject({ code: Code.ResourceExhausted });
  });
});

describe("KEYWARD_VERIFY_AUTH", () => {
  it("root_key (the default): VerifyKey needs a root key", async () => {
    const { admin, anonymous } = await start({});
    const { key } = await admin.call(createKey, { name: "k" });
    expect(await callError(anonymous.call(verifyKey, { key }))).toMatchObject({ code: Code.Unauthenticated });
  });

  it("none: anyone who reaches the port may verify, and management still needs a root key", async () => {
    const { admin, anonymous } = await start({ KEYWARD_VERIFY_AUTH: "none", KEYWARD_VERIFY_KEYSPACES: "default" });
    const { key } = await admin.call(createKey, { name: "k" });
    expect(await anonymous.call(verifyKey, { key })).toMatchObject({ valid: true, code: VerifyCode.VALID });
    expect(await callError(anonymous.call(createKey, { name: "k" }))).toMatchObject({ code: Code.Unauthenticated });
  });
});
