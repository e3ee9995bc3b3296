import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Authenticates what Keyward writes to Redis, because Redis is shared
 * infrastructure and not an authority: whoever can reach it must not be able
 * to make Keyward believe a key exists, is stronger, or is not revoked. Each
 * value carries an HMAC under a server secret, bound to the name it lives
 * under (a Redis key, or the pub/sub channel) and to a format version, so a
 * value can neither be forged nor moved to another name.
 */
export interface ValueSigner {
  /** The payload as stored: `kw1.<mac>.<payload>`. */
  sign(name: string, payload: string): string;
  /** The payload, when `stored` was signed for `name` under an accepted secret; undefined otherwise. */
  open(name: string, stored: string): string | undefined;
  /** A binary payload as stored: `kw2`, the 16 bytes of the MAC, the payload. */
  signBytes(name: string, payload: Uint8Array): Buffer;
  /** The binary payload, when `stored` was signed by signBytes for `name` under an accepted secret; undefined otherwise. */
  openBytes(name: string, stored: Uint8Array): Uint8Array | undefined;
}

/** The secrets values are signed with: `current` signs and verifies; `previous` only verifies (rotation). */
export interface SigningSecrets {
  readonly current: string;
  readonly previous?: string | undefined;
}

const VERSION = "kw1";
/** 128 bits of HMAC-SHA-256 (RFC 2104 allows truncation to half): 22 base64url characters. */
const MAC_BYTES = 16;
const MAC_LENGTH = 22;
const HEADER_LENGTH = VERSION.length + 1 + MAC_LENGTH + 1;
/** Binary values (the shared cache's compact layout): another version, so neither form passes for the other. */
const BYTES_VERSION_NAME = "kw2";
const BYTES_VERSION = Buffer.from(BYTES_VERSION_NAME);
const BYTES_HEADER_LENGTH = BYTES_VERSION.length + MAC_BYTES;

export function createValueSigner(secrets: SigningSecrets): ValueSigner {
  const accepted = [secrets.current, ...(secrets.previous ? [secrets.previous] : [])];
  const mac = (secret: string, name: string, payload: string) =>
    createHmac("sha256", secret).update(`${VERSION}\n${name}\n${payload}`).digest().subarray(0, MAC_BYTES);
  const bytesMac = (secret: string, name: string, payload: Uint8Array) =>
    createHmac("sha256", secret)
      .update(`${BYTES_VERSION_NAME}\n${name}\n`)
      .update(payload)
      .digest()
      .subarray(0, MAC_BYTES);
  return {
    sign(name, payload) {
      return `${VERSION}.${mac(secrets.current, name, payload).toString("base64url")}.${payload}`;
    },
    open(name, stored) {
      if (stored.length < HEADER_LENGTH || !stored.startsWith(`${VERSION}.`) || stored[HEADER_LENGTH - 1] !== ".") {
        return undefined;
      }
      const presented = Buffer.from(stored.slice(VERSION.length + 1, HEADER_LENGTH - 1), "base64url");
      if (presented.length !== MAC_BYTES) return undefined;
      const payload = stored.slice(HEADER_LENGTH);
      return accepted.some((secret) => timingSafeEqual(mac(secret, name, payload), presented)) ? payload : undefined;
    },
    signBytes(name, payload) {
      return Buffer.concat([BYTES_VERSION, bytesMac(secrets.current, name, payload), payload]);
    },
    openBytes(name, stored) {
      if (stored.length < BYTES_HEADER_LENGTH || !BYTES_VERSION.equals(stored.subarray(0, BYTES_VERSION.length))) {
        return undefined;
      }
      const presented = stored.subarray(BYTES_VERSION.length, BYTES_HEADER_LENGTH);
      const payload = stored.subarray(BYTES_HEADER_LENGTH);
      return accepted.some((secret) => timingSafeEqual(bytesMac(secret, name, payload), presented))
        ? payload
        : undefined;
    },
  };
}
