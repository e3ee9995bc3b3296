import { afterAll, describe, expect, it } from "vitest";
import { KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { connectRoute, ROUTES } from "../support/clients.js";
import { startTestKeyward, type TestKeyward } from "../support/keyward.js";

const running: TestKeyward[] = [];
afterAll(async () => {
  for (const keyward of running) await keyward.stop();
});

describe("issue 9 item 11c: KEYWARD_HOST as an IPv6 address", () => {
  it.each(["::", "[::]", "::1", "[::1]"])(
    "issue 9 item 11c: KEYWARD_HOST=%s answers on both ports over ::1",
    async (host) => {
      const keyward = await startTestKeyward({ KEYWARD_HOST: host });
      running.push(keyward);
      for (const route of ROUTES) {
        const client = connectRoute(route, { ...keyward, host: "::1" });
        const { keys } = await client.call(KeyService.method.listKeys, {});
        client.close();
        expect(keys.length, route).toBeGreaterThan(0); // the bootstrap root key
      }
      const health = await fetch(`http://[::1]:${keyward.httpPort}/healthz`);
      expect(health.status).toBe(200);
    },
  );
});
