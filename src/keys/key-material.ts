import { crc32 } from "node:zlib";
import bs58 from "bs58";
import { pooledRandomBytes } from "./random-pool.js";

/**
 * A secret reads `<prefix>_<body><checksum>`: the body is `byteLength` random
 * bytes in base58, the checksum is the CRC-32 of everything before it, in six
 * base58 digits. The checksum lets VerifyKey turn away mistyped or made-up keys
 * without touching any store (GitHub's token format does the same).
 */
const ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const CHECKSUM_LENGTH = 6;
const BODY = /^[1-9A-HJ-NP-Za-km-z]+$/;
const PREFIX = /^[A-Za-z0-9]+(_[A-Za-z0-9]+)*$/;
const START_LENGTH = 4;

/** Source of cryptographically strong random bytes; injectable for tests. */
export type RandomBytes = (size: number) => Uint8Array;

/** A secret that passed its checksum. */
export interface ParsedKey {
  readonly prefix: string;
  readonly body: string;
}

/** Makes a new secret with the given prefix and entropy. */
export function generateKey(prefix: string, byteLength: number, random: RandomBytes = pooledRandomBytes): string {
  const body = bs58.encode(random(byteLength));
  return `${prefix}_${body}${checksum(prefix, body)}`;
}

/** Splits a secret into its parts, or answers undefined when it is malformed or its checksum fails. */
export function parseKey(key: string): ParsedKey | undefined {
  const separator = key.lastIndexOf("_");
  const prefix = key.slice(0, separator);
  const rest = key.slice(separator + 1);
  if (separator < 1 || rest.length <= CHECKSUM_LENGTH || !PREFIX.test(prefix)) return undefined;
  const body = rest.slice(0, -CHECKSUM_LENGTH);
  if (!BODY.test(body) || rest.slice(-CHECKSUM_LENGTH) !== checksum(prefix, body)) return undefined;
  return { prefix, body };
}

/** The first characters of a secret, safe to show ("sk_live_3xAb"). */
export function keyStart({ prefix, body }: ParsedKey): string {
  return `${prefix}_${body.slice(0, START_LENGTH)}`;
}

function checksum(prefix: string, body: string): string {
  let value = crc32(`${prefix}_${body}`);
  let digits = "";
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    digits = ALPHABET[value % 58] + digits;
    value = Math.floor(value / 58);
  }
  return digits;
}
