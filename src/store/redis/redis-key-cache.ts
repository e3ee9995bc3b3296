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
 * Key records in Redis under `kw:key:<hash>`. Fills use SET NX, so a fill
 * racing an invalidation loses to the tombstone the invalidation left.
 * Invalidations that fail while Redis is away are retried on the next call
 * that reaches it.
 */
export class RedisKeyCache implements SharedKeyCache {
  private readonly pending = new Set<string>();

  constructor(
    private readonly client: RedisClient,
    private readonly ttls: RedisKeyCacheTtls,
  ) {}

  async get(hash: string): Promise<SharedLookup> {
    try {
      await this.retryPending();
      const value = await this.client.get(cacheKey(hash));
      if (value === null || value === TOMBSTONE) return { kind: "unknown" };
      if (value === ABSENT) return { kind: "absent" };
      return { kind: "hit", record: decodeRecord(value) };
    } catch {
      return { kind: "unknown" };
    }
  }

  async fill(hash: string, record: KeyRecord | undefined): Promise<void> {
    const [value, ttl] = record ? [encodeRecord(record), this.ttls.recordMs] : [ABSENT, this.ttls.absentMs];
    await this.client
      .set(cacheKey(hash), value, { condition: "NX", expiration: { type: "PX", value: ttl } })
      .catch(() => {});
  }

  async invalidate(hashes: readonly string[]): Promise<void> {
    for (const hash of hashes) this.pending.add(hash);
    await this.retryPending().catch(() => {});
  }

  private async retryPending(): Promise<void> {
    if (this.pending.size === 0) return;
    const hashes = [...this.pending];
    const multi = this.client.multi();
    for (const hash of hashes)
      multi.set(cacheKey(hash), TOMBSTONE, { expiration: { type: "PX", value: this.ttls.tombstoneMs } });
    await multi.exec();
    for (const hash of hashes) this.pending.delete(hash);
  }
}

function cacheKey(hash: string): string {
  return `kw:key:${hash}`;
}
