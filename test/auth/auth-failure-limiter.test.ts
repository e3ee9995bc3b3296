import { describe, expect, it } from "vitest";
import { createAuthFailureLimiter } from "../../src/rpc/auth-failure-limiter.js";
import { peerAddress } from "../../src/rpc/peer-address.js";

describe("failed-authentication limiter", () => {
  it("blocks an address (whatever the port) for the rest of its minute once it reaches the limit, and only that address", () => {
    let now = 0;
    const limiter = createAuthFailureLimiter(3, () => now);
    for (let i = 0; i < 3; i++) {
      expect(limiter.isBlocked("10.0.0.1:5000")).toBe(false);
      limiter.recordFailure("10.0.0.1:5000");
    }
    expect(limiter.isBlocked("10.0.0.1:5000")).toBe(true);
    expect(limiter.isBlocked("10.0.0.1:6001")).toBe(true); // same address, another port
    expect(limiter.isBlocked("10.0.0.2:5000")).toBe(false);
    now = 59_999;
    expect(limiter.isBlocked("10.0.0.1:5000")).toBe(true);
    now = 60_000;
    expect(limiter.isBlocked("10.0.0.1:5000")).toBe(false);
  });
});

describe("peer address", () => {
  it.each([
    ["127.0.0.1:51234", "127.0.0.1"],
    ["ipv4:10.1.2.3:443", "10.1.2.3"],
    ["[::1]:51234", "::1"],
    ["ipv6:[fe80::1]:8080", "fe80::1"],
    ["::ffff:127.0.0.1", "::ffff:127.0.0.1"],
  ])("%s → %s", (peer, address) => {
    expect(peerAddress(peer)).toBe(address);
  });
});
