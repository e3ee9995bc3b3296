import { RESP_TYPES } from "redis";
import type { VerifiableKey } from "../../keys/verifiable-key.js";
import type { SharedKeyCache, SharedLookup } from "../../ports/shared-key-cache.js";
import { decodeCachedKey, encodeCachedKey } from "./key-record-codec.js";
import type { RedisClient } from "./redis-connection.js";
import type { RejectionReporter } from "./rejected-values.js";
import type { ValueSigner } from "./value-signer.js";

/** How long Redis keeps a key, a "no such key", and a "just changed" marker. */
export interface RedisKeyCacheTtls {
  readonly recordMs: number;
  readonly absentMs: number;
  readonly tombstoneMs: number;
}

const ABSENT = "absent";
const TOMBSTONE = "tombstone";
/** How text values (tombstones, and everything an older version wrote) begin. */
const TEXT_PREFIX = Buffer.from("kw1.");
/** The first byte of a binary value: a key in the layout of key-record-codec.ts, or "no such key". */
const KEY = Buffer.of(1);
const ABSENT_BYTES = Buffer.of(2);

/**
 * Key records in Redis under `kw:key:{<hash>}` (hash-tagged: on a cluster,
 * everything about one key lives in one slot), as `<readAt>|<record>`, every
 * value signed for the Redis key it lives under: anything unsigned, signed
 * under another secret or for another key is a miss (and reported), never an
 * answer. Fills use SET NX, so a fill racing an invalidation loses to the
 * tombstone the invalidation left. A failed invalidation is reported, and
 * retried by the caller.
 */
export class RedisKeyCache implements SharedKeyCache {
  /** The same client, answering values as bytes. */
  private readonly bytes;

  constructor(
    private readonly client: RedisClient,
    private readonly ttls: RedisKeyCacheTtls,
    private readonly signer: ValueSigner,
    private readonly rejected: RejectionReporter,
  ) {
    this.bytes = client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  }

  async get(hash: string): Promise<SharedLookup> {
    const name = cacheKey(hash);
    let stored: Buffer | null;
    try {
      stored = await this.bytes.get(name);
    } catch {
      return { kind: "unknown" };
    }
    if (stored === null) return { kind: "unknown" };
    const lookup = this.parse(name, hash, stored);
    if (!lookup) {
      this.rejected("cache");
      return { kind: "unknown" };
    }
    return lookup;
  }

  async fill(hash: string, record: VerifiableKey | undefined, readAt: number): Promise<void> {
    const name = cacheKey(hash);
    let payload: Buffer;
    try {
      payload = record ? Buffer.concat([KEY, encodeCachedKey(record, readAt, hash)]) : ABSENT_BYTES;
    } catch {
      return; // a number the layout cannot hold: not cached, asked of the store next time
    }
    const ttl = record ? this.ttls.recordMs : this.ttls.absentMs;
    await this.client
      .set(name, this.signer.signBytes(name, payload), { condition: "NX", expiration: { type: "PX", value: ttl } })
      .catch(() => {});
  }

  /**
   * Tombstones for every hash, each set on its own: the hashes of one key may
   * live on different nodes of a cluster. node-redis sends the commands of one
   * turn together, so this is still one round trip to each server.
   */
  async invalidate(hashes: readonly string[]): Promise<boolean> {
    const tombstones = hashes.map((hash) => {
      const name = cacheKey(hash);
      return this.client.set(name, this.signer.sign(name, TOMBSTONE), {
        expiration: { type: "PX", value: this.ttls.tombstoneMs },
      });
    });
    return Promise.all(tombstones).then(
      () => true,
      () => false,
    );
  }

  /**
   * An authenticated value as a lookup; undefined when it is not authentic
   * or does not read as one. Tombstones (and values an older version wrote)
   * are text signed as `kw1`; keys and "no such key" markers are bytes signed
   * as `kw2`. A key in the older layout is a miss, not a rejection.
   */
  private parse(name: string, hash: string, stored: Buffer): SharedLookup | undefined {
    if (stored.subarray(0, TEXT_PREFIX.length).equals(TEXT_PREFIX)) {
      const text = this.signer.open(name, stored.toString("utf8"));
      if (text === undefined) return undefined;
      return text === ABSENT ? { kind: "absent" } : { kind: "unknown" };
    }
    const payload = this.signer.openBytes(name, stored);
    if (payload === undefined) return undefined;
    if (payload.length === 1 && payload[0] === ABSENT_BYTES[0]) return { kind: "absent" };
    if (payload[0] !== KEY[0]) return undefined;
    try {
      const { key, readAt } = decodeCachedKey(payload.subarray(1), hash);
      return { kind: "hit", record: key, readAt };
    } catch {
      return undefined;
    }
  }
}

function cacheKey(hash: string): string {
  return `kw:key:{${hash}}`;
}
