import type { JsonValue } from "../keys/key-record.js";
import type { VerifiableKey } from "../keys/verifiable-key.js";

/*
 * What one entry of the verification cache costs in memory, as V8 lays it out
 * on 64 bits (no pointer compression, as in Node): an estimate on the high
 * side: measured on Node 20 with 50,000 entries, a typical key (a name, an
 * owner, no meta) took 780 bytes, 1,210 with its VerifyKey answer and that
 * answer's encoding, 1,410 with two answers, against an estimate of about
 * 2,400 (see `keyward_cache_bytes` and `npm run bench:memory`). An entry keeps alive its key and what was made
 * from it while it is cached: the answers VerifyKey and Check share between
 * calls (chain/shared-replies.ts) with their encodings (transport/grpc), so
 * those are counted with it.
 */

/** The cache's own slot: the hash (a 43-character string) in its index and lists, the entry object, timers. */
const SLOT_BYTES = 300;
/** An object: map, properties and elements pointers, then 8 bytes per field. */
const OBJECT_BYTES = 24;
const FIELD_BYTES = 8;
/** An array object and its backing store. */
const ARRAY_BYTES = 48;
const DATE_BYTES = 48;
const STRING_BYTES = 24;
const NUMBER_BYTES = 16;
/**
 * The answers one key is asked for: a VerifyKey answer and a Check answer
 * (or the answers of two outcomes). Each is a message object and its place in
 * the map of shared replies, apart from the strings and lists it shares with
 * the key, and its encoding (a Buffer and its backing store).
 */
const ANSWERS_PER_KEY = 2;
const ANSWER_BYTES = 400;
const ENCODING_BYTES_PER_BYTE = 2;

/** The estimated memory of a cache entry holding `key` (undefined: the hash has no key). */
export function estimatedEntryBytes(key: VerifiableKey | undefined): number {
  if (!key) return SLOT_BYTES;
  return SLOT_BYTES + keyBytes(key) + ANSWERS_PER_KEY * (ANSWER_BYTES + ENCODING_BYTES_PER_BYTE * answerLength(key));
}

function keyBytes(key: VerifiableKey): number {
  let bytes = OBJECT_BYTES + FIELD_BYTES * Object.keys(key).length;
  for (const text of [key.keyId, key.keyspaceId, key.hash, key.name, key.ownerId, key.orgId, key.environment]) {
    bytes += stringBytes(text);
  }
  bytes += ARRAY_BYTES + key.retiredSecrets.length * (OBJECT_BYTES + 2 * FIELD_BYTES + DATE_BYTES);
  for (const secret of key.retiredSecrets) bytes += stringBytes(secret.hash);
  for (const list of [key.scopes, key.roles, key.permissions]) bytes += stringsBytes(list);
  bytes += ARRAY_BYTES;
  for (const limit of key.ratelimits)
    bytes += OBJECT_BYTES + 3 * FIELD_BYTES + stringBytes(limit.name) + 2 * NUMBER_BYTES;
  if (key.refill) bytes += OBJECT_BYTES + 4 * FIELD_BYTES + 2 * NUMBER_BYTES + DATE_BYTES;
  if (key.expiresAt) bytes += DATE_BYTES;
  if (key.remaining !== undefined) bytes += NUMBER_BYTES;
  bytes += DATE_BYTES; // createdAt
  if (key.meta !== undefined) bytes += jsonBytes(key.meta);
  return bytes;
}

/** Roughly the length of an encoded answer: the key's public fields as protobuf writes them. */
function answerLength(key: VerifiableKey): number {
  let length = 64 + key.keyId.length + key.keyspaceId.length + key.name.length;
  length += key.ownerId.length + key.orgId.length + key.environment.length;
  for (const list of [key.scopes, key.roles, key.permissions]) {
    for (const text of list) length += text.length + 2;
  }
  // A Struct on the wire takes about twice the JSON's length (a message per field and per value).
  if (key.meta !== undefined) length += 2 * JSON.stringify(key.meta).length;
  return length;
}

function stringBytes(text: string): number {
  // One byte per character for Latin-1, two otherwise; rounded up to 8.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the Latin-1 range
  const width = /^[\u0000-\u00ff]*$/.test(text) ? 1 : 2;
  return STRING_BYTES + Math.ceil((text.length * width) / 8) * 8;
}

function stringsBytes(list: readonly string[]): number {
  let bytes = ARRAY_BYTES + FIELD_BYTES * list.length;
  for (const text of list) bytes += stringBytes(text);
  return bytes;
}

/** A JSON value as JSON.parse or protobuf-es builds it: objects, arrays, strings, and numbers that are not small integers. */
function jsonBytes(value: JsonValue): number {
  if (typeof value === "string") return stringBytes(value);
  if (typeof value === "number") return Number.isInteger(value) && Math.abs(value) < 2 ** 31 ? 0 : NUMBER_BYTES;
  if (value === null || typeof value === "boolean") return 0;
  if (Array.isArray(value)) {
    let bytes = ARRAY_BYTES + FIELD_BYTES * value.length;
    for (const item of value) bytes += FIELD_BYTES + jsonBytes(item);
    return bytes;
  }
  // Field names are strings too (V8 shares equal names between objects, but not always).
  let bytes = OBJECT_BYTES;
  for (const [name, item] of Object.entries(value)) bytes += 2 * FIELD_BYTES + stringBytes(name) + jsonBytes(item);
  return bytes;
}
