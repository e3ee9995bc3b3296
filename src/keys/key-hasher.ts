import { createHmac, hash } from "node:crypto";

/**
 * Turns a secret into the only form Keyward stores: SHA-256, or HMAC-SHA-256
 * when a server secret is configured (then a leaked database alone does not
 * allow checking guesses offline).
 */
export type KeyHasher = (key: string) => string;

/** A hasher for the given server secret, or plain SHA-256 without one. */
export function createKeyHasher(serverSecret?: string): KeyHasher {
  if (serverSecret) {
    return (key) => createHmac("sha256", serverSecret).update(key).digest("base64url");
  }
  // The one-shot hash() avoids building a Hash object per call: less than half the cost.
  return (key) => hash("sha256", key, "base64url");
}
