import { createHmac, hash } from "node:crypto";

/**
 * Turns a secret into the only form Keyward stores: SHA-256, or HMAC-SHA-256
 * when a server secret is configured (then a leaked database alone does not
 * allow checking guesses offline).
 */
export type KeyHasher = (key: string) => string;

/**
 * How a key without Keyward's checksum (one imported from another system) is
 * stored: from its SHA-256, so that a key imported by its hash alone and the
 * same key imported in plaintext are stored alike. Without a server secret
 * this is SHA-256 itself, as for every key; with one, the HMAC of the SHA-256.
 */
export interface ImportedKeyHasher {
  /** The stored hash of a key presented (or imported) in plaintext. */
  ofKey(key: string): string;
  /** The stored hash of a key known only by its SHA-256 (32 bytes). */
  ofSha256(digest: Uint8Array): string;
}

export function createImportedKeyHasher(serverSecret?: string): ImportedKeyHasher {
  const ofSha256 = serverSecret
    ? (digest: Uint8Array) => createHmac("sha256", serverSecret).update(digest).digest("base64url")
    : (digest: Uint8Array) => Buffer.from(digest).toString("base64url");
  return { ofSha256, ofKey: (key) => ofSha256(hash("sha256", key, "buffer")) };
}

/** A hasher for the given server secret, or plain SHA-256 without one. */
export function createKeyHasher(serverSecret?: string): KeyHasher {
  if (serverSecret) {
    return (key) => createHmac("sha256", serverSecret).update(key).digest("base64url");
  }
  // The one-shot hash() avoids building a Hash object per call: less than half the cost.
  return (key) => hash("sha256", key, "base64url");
}
