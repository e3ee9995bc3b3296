import { describe, expect, it } from "vitest";
import { createAuthFailureLimiter } from "../../src/chain/auth-failure-limiter.js";
import { formatPeer, peerAddress, peerFromAddressAndPort } from "../../src/chain/peer-address.js";

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

  it("issue 9 item 11a: counts an IPv6 caller per address, whatever the port, and an IPv4-mapped caller as its IPv4 address", () => {
    const limiter = createAuthFailureLimiter(2, () => 0);
    limiter.recordFailure(formatPeer("::1", 5000));
    limiter.recordFailure(peerFromAddressAndPort("::1:6001")); // as grpc-js writes it
    expect(limiter.isBlocked(formatPeer("::1", 7002))).toBe(true);
    expect(limiter.isBlocked(formatPeer("::2", 5000))).toBe(false);

    limiter.recordFailure(formatPeer("::ffff:10.0.0.9", 5000));
    limiter.recordFailure("10.0.0.9:6001");
    expect(limiter.isBlocked("10.0.0.9:7002")).toBe(true);
    expect(limiter.isBlocked(formatPeer("::ffff:10.0.0.9", 7003))).toBe(true);
  });
});

describe("peer address", () => {
  it.each([
    ["127.0.0.1:51234", "127.0.0.1"],
    ["ipv4:10.1.2.3:443", "10.1.2.3"],
    ["[::1]:51234", "::1"],
    ["ipv6:[fe80::1]:8080", "fe80::1"],
    ["::ffff:127.0.0.1", "127.0.0.1"],
    ["[::ffff:10.0.0.7]:51234", "10.0.0.7"],
    ["[::FFFF:10.0.0.7]:51234", "10.0.0.7"],
    ["[::ffff:0:1]:51234", "::ffff:0:1"],
    ["unknown", "unknown"],
  ])("%s → %s", (peer, address) => {
    expect(peerAddress(peer)).toBe(address);
  });
});

describe("peer strings", () => {
  it.each([
    ["10.0.0.7", 51234, "10.0.0.7:51234"],
    ["::1", 51234, "[::1]:51234"],
    ["::ffff:10.0.0.7", 443, "[::ffff:10.0.0.7]:443"],
  ])("%s port %s → %s", (address, port, peer) => {
    expect(formatPeer(address, port)).toBe(peer);
  });

  it.each([
    ["::1:51234", "[::1]:51234"],
    ["fe80::1:2:443", "[fe80::1:2]:443"],
    ["10.0.0.7:51234", "10.0.0.7:51234"],
    ["unknown", "unknown"],
  ])("grpc-js's %s → %s", (grpcPeer, peer) => {
    expect(peerFromAddressAndPort(grpcPeer)).toBe(peer);
  });
});
