import { randomFillSync } from "node:crypto";

/**
 * Cryptographically strong random bytes drawn from a buffer filled 16 KiB at
 * a time: one call into the system's generator serves hundreds of secrets and
 * ids, where asking it per secret (or, as the ulid package does, per
 * character of an id) cost more than everything else CreateKey does.
 */
const POOL_SIZE = 16 * 1024;
const pool = Buffer.alloc(POOL_SIZE);
let offset = POOL_SIZE;

/** `size` fresh random bytes, copied out of the pool (never handed out twice). */
export function pooledRandomBytes(size: number): Uint8Array {
  if (size > POOL_SIZE) return randomFillSync(new Uint8Array(size));
  if (offset + size > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const bytes = Uint8Array.prototype.slice.call(pool, offset, offset + size);
  // Spent bytes are wiped so that the pool never holds a secret already given out.
  pool.fill(0, offset, offset + size);
  offset += size;
  return bytes;
}

/** A uniform number in [0, 1) with 8 random bits, for the ulid package, which draws one character (5 bits) per call. */
export function pooledPrng(): number {
  return (pooledRandomBytes(1)[0] as number) / 256;
}
