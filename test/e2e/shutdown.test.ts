import net from "node:net";
import { describe, expect, it } from "vitest";
import { generateRootKey } from "../../src/bootstrap.js";
import { startKeywardProcess } from "../support/process.js";

/** Opens a raw HTTP/1.1 connection and sends all but the last byte of a CreateKey call. */
async function startSlowCall(port: number, rootKey: string) {
  const body = JSON.stringify({ name: "in flight during shutdown" });
  const socket = net.connect(port, "127.0.0.1");
  await new Promise((resolve) => socket.once("connect", resolve));
  let response = "";
  socket.on("data", (chunk) => {
    response += chunk;
  });
  const ended = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.write(
    "POST /keyward.v1.KeyService/CreateKey HTTP/1.1\r\nhost: keyward\r\ncontent-type: application/json\r\n" +
      `authorization: Bearer ${rootKey}\r\n` +
      `content-length: ${body.length}\r\n\r\n${body.slice(0, -1)}`,
  );
  return {
    finish: async () => {
      socket.write(body.slice(-1));
      await ended;
      return response;
    },
  };
}

describe("SIGTERM", () => {
  it("stops accepting, finishes the call in flight, closes the stores and exits 0", async () => {
    const rootKey = generateRootKey();
    const keyward = await startKeywardProcess("node", ["dist/src/main.js"], {
      REDIS_URL: "redis://127.0.0.1:6379",
      KEYWARD_ROOT_KEY: rootKey,
    });
    const slow = await startSlowCall(keyward.httpPort, rootKey);
    const exit = keyward.signal("SIGTERM");
    await expect.poll(() => keyward.output()).toContain("draining calls and stopping");

    // New connections are refused on both ports while the old call is still being answered.
    for (const port of [keyward.grpcPort, keyward.httpPort]) expect(await connectionRefused(port)).toBe(true);

    const response = await slow.finish();
    expect(response).toMatch(/^HTTP\/1\.1 200/);
    expect(response).toMatch(/"keyId":"key_/);
    expect(await exit).toBe(0);
    expect(keyward.output()).toContain('"msg":"stopped"');
  });
});

function connectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(port, "127.0.0.1");
    probe.once("connect", () => {
      probe.destroy();
      resolve(false);
    });
    probe.once("error", () => resolve(true));
  });
}
