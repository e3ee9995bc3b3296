import type { KeyRecord } from "../../keys/key-record.js";
import type { SharedKeyCache, SharedLookup } from "../../ports/shared-key-cache.js";
import { decodeRecord, encodeRecord } from "./key-record-codec.js";
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
  constructor(
    private readonly client: RedisClient,
    private readonly ttls: RedisKeyCacheTtls,
    private readonly signer: ValueSigner,
    private readonly rejected: RejectionReporter,
  ) {}

  async get(hash: string): Promise<SharedLookup> {
    const name = cacheKey(hash);
    let stored: string | null;
    try {
      stored = await this.client.get(name);
    } catch {
      return { kind: "unknown" };
    }
    if (stored === null) return { kind: "unknown" };
    const value = this.signer.open(name, stored);
    const lookup = value === undefined ? undefined : parse(value);
    if (!lookup) {
      this.rejected("cache");
      return { kind: "unknown" };
    }
    return lookup;
  }

  async fill(hash: string, record: KeyRecord | undefined, readAt: number): Promise<void> {
    const [value, ttl] = record
      ? [`${readAt}|${encodeRecord(record)}`, this.ttls.recordMs]
      : [ABSENT, this.ttls.absentMs];
    const name = cacheKey(hash);
    await this.client
      .set(name, this.signer.sign(name, value), { condition: "NX", expiration: { type: "PX", value: ttl } })
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
}

/** An authenticated value as a lookup; undefined when it does not read as one. */
function parse(value: string): SharedLookup | undefined {
  if (value === TOMBSTONE) return { kind: "unknown" };
  if (value === ABSENT) return { kind: "absent" };
  const separator = value.indexOf("|");
  const readAt = Number(value.slice(0, separator));
  if (separator < 1 || !Number.isSafeInteger(readAt)) return undefined;
  try {
    return { kind: "hit", readAt, record: decodeRecord(value.slice(separator + 1)) };
  } catch {
    return undefined;
  }
}

function cacheKey(hash: string): string {
  return `kw:key:{${hash}}`;
}
