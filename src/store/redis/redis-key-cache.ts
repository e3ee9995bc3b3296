import type { KeyRecord } from "../../keys/key-record.js";
import type { SharedKeyCache, SharedLookup } from "../key-cache.js";
import { decodeRecord, encodeRecord } from "./key-record-codec.js";
import type { RedisClient } from "./redis-connection.js";

/** How long Redis keeps a key, a "no such key", and a "just changed" marker. */
export interface RedisKeyCacheTtls {
  readonly recordMs: number;
  readonly absentMs: number;
  readonly tombstoneMs: number;
}

const ABSENT = "absent";
const TOMBSTONE = "tombstone";

/**
 * Key records in Redis under `kw:key:<hash>`, as `<readAt>|<record>`. Fills
 * use SET NX, so a fill racing an invalidation loses to the tombstone the
 * invalidation left. A failed invalidation is reported, and retried by the
 * caller.
 */
export class RedisKeyCache implements SharedKeyCache {
  constructor(
    private readonly client: RedisClient,
    private readonly ttls: RedisKeyCacheTtls,
  ) {}

  async get(hash: string): Promise<SharedLookup> {
    try {
      const value = await this.client.get(cacheKey(hash));
      if (value === null || value === TOMBSTONE) return { kind: "unknown" };
      if (value === ABSENT) return { kind: "absent" };
      const separator = value.indexOf("|");
      if (separator < 1) return { kind: "unknown" }; // written by an older version, without readAt
      return {
        kind: "hit",
        readAt: Number(value.slice(0, separator)),
        record: decodeRecord(value.slice(separator + 1)),
      };
    } catch {
      return { kind: "unknown" };
    }
  }

  async fill(hash: string, record: KeyRecord | undefined, readAt: number): Promise<void> {
    const [value, ttl] = record
      ? [`${readAt}|${encodeRecord(record)}`, this.ttls.recordMs]
      : [ABSENT, this.ttls.absentMs];
    await this.client
      .set(cacheKey(hash), value, { condition: "NX", expiration: { type: "PX", value: ttl } })
      .catch(() => {});
  }

  async invalidate(hashes: readonly string[]): Promise<boolean> {
    const multi = this.client.multi();
    for (const hash of hashes) {
      multi.set(cacheKey(hash), TOMBSTONE, { expiration: { type: "PX", value: this.ttls.tombstoneMs } });
    }
    return multi.exec().then(
      () => true,
      () => false,
    );
  }
}

function cacheKey(hash: string): string {
  return `kw:key:${hash}`;
}
