import { describe, expect, it } from "vitest";
import { generateKey, keyStart, parseKey } from "../../src/keys/key-material.js";

describe("key material", () => {
  it("reads <prefix>_<base58 body><checksum> and parses back", () => {
    const key = generateKey("sk_live", 16);
    expect(key).toMatch(/^sk_live_[1-9A-HJ-NP-Za-km-z]{25,30}$/);
    expect(parseKey(key)).toEqual({ prefix: "sk_live", body: key.slice(8, -6) });
  });

  it("carries byteLength random bytes of entropy", () => {
    const zeros = generateKey("kw", 16, (size) => new Uint8Array(size));
    const ones = generateKey("kw", 16, (size) => new Uint8Array(size).fill(255));
    expect(zeros).not.toBe(ones);
    // base58 of 32 bytes is 43 or 44 digits; with the six checksum digits and "kw_":
    expect(generateKey("kw", 32).length).toBeGreaterThanOrEqual(3 + 43 + 6);
    expect(new Set(Array.from({ length: 1000 }, () => generateKey("kw", 16))).size).toBe(1000);
  });

  it("turns away every single-character typo through the checksum", () => {
    const key = generateKey("kw", 16);
    const alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let typos = 0;
    for (let position = 3; position < key.length; position++) {
      for (const replacement of alphabet) {
        if (replacement === key[position]) continue;
        const typo = key.slice(0, position) + replacement + key.slice(position + 1);
        expect(parseKey(typo), typo).toBeUndefined();
        typos += 1;
      }
    }
    expect(typos).toBeGreaterThan(1000);
  });

  it("turns away swapped neighbours and a changed prefix", () => {
    const key = generateKey("kw", 16);
    const swapped = key.slice(0, 5) + key[6] + key[5] + key.slice(7);
    if (swapped !== key) expect(parseKey(swapped)).toBeUndefined();
    expect(parseKey(`xx${key.slice(2)}`)).toBeUndefined();
  });

  it.each([
    ["empty", ""],
    ["no separator", "kwabcdefghijkmnopqrstuvwxyz"],
    ["nothing after the separator", "kw_"],
    ["only a checksum", "kw_123456"],
    ["no prefix", "_abcdefghijkmnopqrstuvwxyz"],
    ["characters outside base58", "kw_0OIl0OIl0OIl0OIl0OIl0OIl"],
    ["spaces", "kw_ abc def ghi jkm nop"],
    ["10 KB of garbage", "x".repeat(10_240)],
  ])("answers undefined for a malformed key: %s", (_, key) => {
    expect(parseKey(key)).toBeUndefined();
  });

  it("shows the prefix and four body characters as the start", () => {
    const key = generateKey("sk_test", 16);
    const parsed = parseKey(key);
    expect(parsed && keyStart(parsed)).toBe(key.slice(0, "sk_test_".length + 4));
  });
});
