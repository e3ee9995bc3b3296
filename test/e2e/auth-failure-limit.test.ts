import { Code } from "@connectrpc/connect";
import { afterAll, describe, expect, it } from "vitest";
import { KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { generateKey } from "../../src/keys/key-material.js";
import { callError, connectRoute, type Route } from "../support/clients.js";
import { startTestKeyward, type TestKeyward } from "../support/keyward.js";

const { listKeys } = KeyService.method;
const LIMIT = 3;
/** Routes whose every client opens a connection of its own (grpc-js shares connections between clients). */
const ROUTES_WITH_OWN_CONNECTIONS: readonly Route[] = [
  "connect gRPC → gRPC port",
  "connect → HTTP port",
  "connect gRPC-Web → HTTP port",
  "connect gRPC → HTTP port",
];

const running: TestKeyward[] = [];
afterAll(async () => {
  for (const keyward of running) await keyward.stop();
});

async function startListeningOn(host: string) {
  const keyward = await startTestKeyward({ KEYWARD_HOST: host, KEYWARD_AUTH_FAILURES_PER_MINUTE: String(LIMIT) });
  running.push(keyward);
  return keyward;
}

/** One ListKeys on a connection of its own, from `from`, sending `authorization` if given. */
async function callOnNewConnection(keyward: TestKeyward, route: Route, authorization?: string, from = "::1") {
  const client = connectRoute(route, { ...keyward, host: from });
  const headers: Record<string, string> = authorization ? { authorization } : {};
  // HTTP/1.1 clients keep connections alive for reuse unless told otherwise.
  if (!route.startsWith("connect gRPC →")) headers.connection = "close";
  try {
    return await callError(client.call(listKeys, {}, headers));
  } finally {
    client.close();
  }
}

describe("issue 9 item 11a: the failed-authentication limit over IPv6", () => {
  it.each(ROUTES_WITH_OWN_CONNECTIONS)(
    "issue 9 item 11a: %s: wrong keys from new connections of one address add up, and the limit blocks",
    async (route) => {
      const keyward = await startListeningOn("::1");
      for (let i = 0; i < LIMIT; i++) {
        const wrongKey = `Bearer ${generateKey("kw_root", 32)}`;
        expect(await callOnNewConnection(keyward, route, wrongKey)).toMatchObject({ code: Code.Unauthenticated });
      }
      expect(await callOnNewConnection(keyward, route, `Bearer ${keyward.rootKey}`)).toEqual({
        code: Code.ResourceExhausted,
        message: "too many failed authentications from this address; try again later",
      });
    },
  );

  it.each(ROUTES_WITH_OWN_CONNECTIONS)(
    "issue 9 item 11a: %s: calls with no authorization header count as failures too",
    async (route) => {
      const keyward = await startListeningOn("::1");
      for (let i = 0; i < LIMIT; i++) {
        expect(await callOnNewConnection(keyward, route)).toMatchObject({ code: Code.Unauthenticated });
      }
      expect(await callOnNewConnection(keyward, route, `Bearer ${keyward.rootKey}`)).toMatchObject({
        code: Code.ResourceExhausted,
      });
    },
  );

  it.each(ROUTES_WITH_OWN_CONNECTIONS)(
    "issue 9 item 11a: %s: an IPv4 caller of a dual-stack port (::ffff:127.0.0.1) is counted per address too",
    async (route) => {
      const keyward = await startListeningOn("::");
      for (let i = 0; i < LIMIT; i++) {
        const wrongKey = `Bearer ${generateKey("kw_root", 32)}`;
        expect(await callOnNewConnection(keyward, route, wrongKey, "127.0.0.1")).toMatchObject({
          code: Code.Unauthenticated,
        });
      }
      expect(await callOnNewConnection(keyward, route, `Bearer ${keyward.rootKey}`, "127.0.0.1")).toMatchObject({
        code: Code.ResourceExhausted,
      });
    },
  );
});
