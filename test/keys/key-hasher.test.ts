import { createHash, createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createKeyHasher } from "../../src/keys/key-hasher.js";
import { generateKey } from "../../src/keys/key-material.js";

const secret = randomBytes(32).toString("base64url");
const otherSecret = randomBytes(32).toString("base64url");

describe("the key hasher", () => {
  it("without a server secret is plain SHA-256, base64url", () => {
    // FIPS 180-2's "abc" vector: a fixed answer, not the implementation checked against itself.
    expect(createKeyHasher()("abc")).toBe("ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
  });

  it("with a server secret is HMAC-SHA-256 under that secret, base64url", () => {
    // RFC 4231 test case 2 (key "Jefe").
    expect(createKeyHasher("Jefe")("what do ya want for nothing?")).toBe("W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM");
    const key = generateKey("sk_live", 16);
    expect(createKeyHasher(secret)(key)).toBe(createHmac("sha256", secret).update(key).digest("base64url"));
  });

  it("with a server secret differs from plain SHA-256 and from the hash under another secret, and is stable", () => {
    const key = generateKey("sk_live", 16);
    const hmac = createKeyHasher(secret)(key);
    // A leaked database alone must not let anyone check guesses with plain SHA-256.
    expect(hmac).not.toBe(createHash("sha256").update(key).digest("base64url"));
    expect(hmac).not.toBe(createKeyHasher()(key));
    expect(hmac).not.toBe(createKeyHasher(otherSecret)(key));
    // Stable: the same secret gives the same hash, from this hasher or a new one (another replica, a restart).
    expect(createKeyHasher(secret)(key)).toBe(hmac);
    const hasher = createKeyHasher(secret);
    expect(hasher(key)).toBe(hasher(key));
    // And different keys still hash apart.
    expect(hasher(generateKey("sk_live", 16))).not.toBe(hmac);
  });
});
