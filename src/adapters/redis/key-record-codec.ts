import { BSON } from "mongodb";
import type { JsonObject, RefillPolicy, RetiredSecret } from "../../keys/key-record.js";
import type { VerifiableKey } from "../../keys/verifiable-key.js";
import { ByteReader, ByteWriter } from "./byte-layout.js";

/**
 * A key as text for invalidation messages, in the driver's Extended JSON
 * (EJSON), which keeps Dates as Dates. `meta` travels as a JSON string of its
 * own, as in MongoDB: its field names are the caller's, and EJSON would read
 * one such as "$date" as a type. Fields left undefined are left out (EJSON
 * would write them as null).
 */
export function encodeRecord({ meta, ...record }: VerifiableKey): string {
  const encoded = meta === undefined ? record : { ...record, meta: JSON.stringify(meta) };
  return BSON.EJSON.stringify(definedOnly(encoded), { relaxed: true });
}

/** The key back, its dates as Date objects again. */
export function decodeRecord(text: string): VerifiableKey {
  const { meta, ...record } = BSON.EJSON.parse(text, { relaxed: true }) as Omit<VerifiableKey, "meta"> & {
    meta?: string;
  };
  return meta === undefined ? record : { ...record, meta: JSON.parse(meta) as JsonObject };
}

/** The value without the fields that are undefined, at any depth of plain objects and arrays. */
function definedOnly<T>(value: T): T {
  if (Array.isArray(value)) return value.map(definedOnly) as T;
  if (value === null || typeof value !== "object" || value instanceof Date) return value;
  const fields = Object.entries(value).filter(([, field]) => field !== undefined);
  return Object.fromEntries(fields.map(([name, field]) => [name, definedOnly(field)])) as T;
}

/*
 * The shared cache's layout of a key (what it holds under `kw:key:{<hash>}`, before signing):
 *
 *   readAt        uint   ms since the epoch, when the copy was read from the key store
 *   flags         uint   REVOKED | DISABLED | EXPIRES | CREDITS | REFILL | META | REFILLED
 *   keyId, keyspaceId, name, ownerId, orgId, environment    string each
 *   secrets       uint n, then n secrets: the current one first, then the retired ones, each
 *                 a hash (see writeHash), retired ones followed by validUntil (int, ms)
 *   createdAt     int    ms
 *   expiresAt     int    ms, with EXPIRES
 *   scopes, roles, permissions    uint n, then n strings each
 *   ratelimits    uint n, then n × (name string, limit uint, durationMs uint)
 *   remaining     int, with CREDITS
 *   refill        interval byte (0 daily, 1 monthly), amount uint, refillDay uint, with REFILL;
 *                 then lastRefilledAt int (ms), with REFILLED
 *   meta          string (JSON), with META
 *
 * Integers are varints (protobuf's), strings UTF-8 with a length; a typical
 * key takes about 90 bytes. The layout's version is the signature's
 * (value-signer.ts): a new layout needs a new version, so that values of the
 * old one are misses.
 */

const REVOKED = 1;
const DISABLED = 2;
const EXPIRES = 4;
const CREDITS = 8;
const REFILL = 16;
const META = 32;
const REFILLED = 64;

/** How a secret's hash is written: the hash the value is stored under, 32 raw bytes, or as text. */
const HASH_LOOKED_UP = 0;
const HASH_32_BYTES = 1;
const HASH_TEXT = 2;

const INTERVALS: readonly RefillPolicy["interval"][] = ["daily", "monthly"];

/** A key as the shared cache stores it under `lookupHash`, with when it was read from the key store. */
export function encodeCachedKey(key: VerifiableKey, readAt: number, lookupHash: string): Buffer {
  const flags =
    (key.revoked ? REVOKED : 0) |
    (key.enabled ? 0 : DISABLED) |
    (key.expiresAt ? EXPIRES : 0) |
    (key.remaining !== undefined ? CREDITS : 0) |
    (key.refill ? REFILL : 0) |
    (key.meta !== undefined ? META : 0) |
    (key.refill?.lastRefilledAt ? REFILLED : 0);
  const out = new ByteWriter().uint(readAt).uint(flags);
  for (const text of [key.keyId, key.keyspaceId, key.name, key.ownerId, key.orgId, key.environment]) out.string(text);
  out.uint(1 + key.retiredSecrets.length);
  writeHash(out, key.hash, lookupHash);
  for (const secret of key.retiredSecrets) writeHash(out, secret.hash, lookupHash).int(secret.validUntil.getTime());
  out.int(key.createdAt.getTime());
  if (key.expiresAt) out.int(key.expiresAt.getTime());
  for (const list of [key.scopes, key.roles, key.permissions]) {
    out.uint(list.length);
    for (const text of list) out.string(text);
  }
  out.uint(key.ratelimits.length);
  for (const limit of key.ratelimits) out.string(limit.name).uint(limit.limit).uint(limit.durationMs);
  if (key.remaining !== undefined) out.int(key.remaining);
  if (key.refill) {
    const { interval, amount, refillDay, lastRefilledAt } = key.refill;
    out.byte(INTERVALS.indexOf(interval)).uint(amount).uint(refillDay);
    if (lastRefilledAt) out.int(lastRefilledAt.getTime());
  }
  if (key.meta !== undefined) out.string(JSON.stringify(key.meta));
  return out.finish();
}

/** The key and its read time back from what `encodeCachedKey` wrote under `lookupHash`; throws when it does not read as one. */
export function decodeCachedKey(bytes: Uint8Array, lookupHash: string): { key: VerifiableKey; readAt: number } {
  const read = new ByteReader(bytes);
  const readAt = read.uint();
  const flags = read.uint();
  const [keyId, keyspaceId, name, ownerId, orgId, environment] = Array.from({ length: 6 }, () => read.string());
  const secrets = read.uint();
  if (secrets < 1) throw new RangeError("a key has a secret");
  const hash = readHash(read, lookupHash);
  const retiredSecrets: RetiredSecret[] = [];
  for (let i = 1; i < secrets; i++) {
    retiredSecrets.push({ hash: readHash(read, lookupHash), validUntil: new Date(read.int()) });
  }
  const createdAt = new Date(read.int());
  const expiresAt = flags & EXPIRES ? new Date(read.int()) : undefined;
  const [scopes, roles, permissions] = Array.from({ length: 3 }, () =>
    Array.from({ length: read.uint() }, () => read.string()),
  );
  const ratelimits = Array.from({ length: read.uint() }, () => ({
    name: read.string(),
    limit: read.uint(),
    durationMs: read.uint(),
  }));
  const remaining = flags & CREDITS ? read.int() : undefined;
  const refill = flags & REFILL ? readRefill(read, (flags & REFILLED) !== 0) : undefined;
  const meta = flags & META ? (JSON.parse(read.string()) as JsonObject) : undefined;
  if (!read.done) throw new RangeError("bytes left over");
  const key: VerifiableKey = {
    keyId: keyId ?? "",
    keyspaceId: keyspaceId ?? "",
    hash,
    retiredSecrets,
    revoked: (flags & REVOKED) !== 0,
    enabled: (flags & DISABLED) === 0,
    expiresAt,
    name: name ?? "",
    ownerId: ownerId ?? "",
    orgId: orgId ?? "",
    environment: environment ?? "",
    meta,
    scopes: scopes ?? [],
    roles: roles ?? [],
    permissions: permissions ?? [],
    ratelimits,
    remaining,
    refill,
    createdAt,
  };
  return { key, readAt };
}

/** Hashes are base64url SHA-256 (43 characters, 32 bytes); the one the value lives under costs a byte. */
function writeHash(out: ByteWriter, hash: string, lookupHash: string): ByteWriter {
  if (hash === lookupHash) return out.byte(HASH_LOOKED_UP);
  const raw = Buffer.from(hash, "base64url");
  if (raw.length === 32 && raw.toString("base64url") === hash) return out.byte(HASH_32_BYTES).fixed(raw);
  return out.byte(HASH_TEXT).string(hash);
}

function readHash(read: ByteReader, lookupHash: string): string {
  switch (read.byte()) {
    case HASH_LOOKED_UP:
      return lookupHash;
    case HASH_32_BYTES:
      return Buffer.from(read.fixed(32)).toString("base64url");
    case HASH_TEXT:
      return read.string();
    default:
      throw new RangeError("unknown hash form");
  }
}

function readRefill(read: ByteReader, refilled: boolean): RefillPolicy {
  const interval = INTERVALS[read.byte()];
  if (!interval) throw new RangeError("unknown refill interval");
  const amount = read.uint();
  const refillDay = read.uint();
  return { interval, amount, refillDay, lastRefilledAt: refilled ? new Date(read.int()) : undefined };
}
