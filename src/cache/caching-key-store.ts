import { LRUCache } from "lru-cache";
import type { KeyChanges, KeyRecord } from "../keys/key-record.js";
import type { Metrics } from "../metrics/metrics.js";
import type { InvalidationBus, SharedKeyCache } from "../store/key-cache.js";
import type { CreditChange, CreditSpend, KeyQuery, KeyStore, UsageUpdate } from "../store/key-store.js";

/** How long this process trusts what it cached. */
export interface LocalCacheSettings {
  readonly maxEntries: number;
  /** While invalidations arrive over the bus. */
  readonly ttlMs: number;
  /** While they do not (no Redis, or the subscription is down): the bound on staleness. */
  readonly degradedTtlMs: number;
  /** For hashes no key has. */
  readonly absentTtlMs: number;
}

/** What this process remembers for a hash: the record, or that there is none. */
type Entry = { readonly record: KeyRecord | undefined };
/** An answer to a lookup, with when it was read from the key store. */
type Found = { readonly record: KeyRecord | undefined; readonly readAt: number };

/** How often a change that could not reach Redis is sent again. */
const RETRY_MS = 1_000;

/**
 * The key store behind the verification cache: `findByHash` asks this
 * process's LRU, then the shared cache, then the store, and remembers misses
 * too so that repeated unknown keys stop at the first layer. Every change made
 * through this store invalidates the hashes it touched everywhere. A lookup
 * that an invalidation overtook is asked again and not cached, so stale data
 * cannot land. Management reads (get, list) always go to the store.
 */
export class CachingKeyStore implements KeyStore {
  /** Absent when configured with no entries: every lookup then starts at the shared cache. */
  private readonly local?: LRUCache<string, Entry>;
  /** Bumped by every change this store hears of; a lookup remembers it to notice being overtaken. */
  private generation = 0;
  private readonly invalidatedIn = new LRUCache<string, number>({ max: 100_000 });
  /** Hashes whose change has not reached Redis yet (tombstones and broadcast), sent again until it has. */
  private readonly unpropagated = new Set<string>();
  private retryTimer?: NodeJS.Timeout;
  private retrying?: Promise<void>;

  private readonly settings: LocalCacheSettings;
  private readonly shared?: SharedKeyCache;
  private readonly bus?: InvalidationBus;
  private readonly metrics?: Pick<Metrics, "cacheLookup">;

  constructor(
    private readonly inner: KeyStore,
    options: {
      readonly settings: LocalCacheSettings;
      /** The cache replicas share (Redis); without one, lookups go from this process to the store. */
      readonly shared?: SharedKeyCache;
      /** How changes reach other replicas; without one, entries live only the degraded TTL. */
      readonly bus?: InvalidationBus;
      readonly metrics?: Pick<Metrics, "cacheLookup">;
    },
  ) {
    ({ settings: this.settings, shared: this.shared, bus: this.bus, metrics: this.metrics } = options);
    const { settings, bus } = options;
    if (settings.maxEntries > 0) this.local = new LRUCache({ max: settings.maxEntries, ttl: settings.ttlMs });
    bus?.subscribe(
      (invalidation) => this.apply(invalidation.hashes, invalidation.record),
      () => {
        this.generation += 1;
        this.local?.clear();
      },
    );
  }

  /**
   * Changes whenever any key changes (here or in another replica) or cached
   * copies were dropped, so that anything derived from cached keys can tell
   * whether it is still current.
   */
  get version(): number {
    return this.generation;
  }

  async findByHash(hash: string): Promise<KeyRecord | undefined> {
    const cached = this.local?.get(hash);
    if (cached) {
      this.metrics?.cacheLookup("local");
      return cached.record;
    }
    const started = this.generation;
    const { record, readAt } = await this.lookup(hash);
    if ((this.invalidatedIn.get(hash) ?? -1) > started) {
      // Changed while we looked: the answer may predate the change. Ask the store itself, and keep nothing.
      return this.inner.findByHash(hash);
    }
    const ttl = this.ttlFor(record, readAt);
    if (ttl > 0) this.local?.set(hash, { record }, { ttl });
    return record;
  }

  /** Stops sending changes that have not reached Redis yet. */
  close(): void {
    clearTimeout(this.retryTimer);
  }

  async insert(record: KeyRecord): Promise<void> {
    await this.inner.insert(record);
  }

  get(keyId: string): Promise<KeyRecord | undefined> {
    return this.inner.get(keyId);
  }

  list(query: KeyQuery): Promise<KeyRecord[]> {
    return this.inner.list(query);
  }

  async update(keyId: string, changes: KeyChanges): Promise<KeyRecord | undefined> {
    const updated = await this.inner.update(keyId, changes);
    if (updated) await this.changed(updated, updated);
    return updated;
  }

  async delete(keyId: string): Promise<boolean> {
    const record = await this.inner.get(keyId);
    const deleted = await this.inner.delete(keyId);
    if (record) await this.changed(record, undefined);
    return deleted;
  }

  spendCredits(keyId: string, cost: number): Promise<CreditSpend | undefined> {
    return this.inner.spendCredits(keyId, cost);
  }

  async refillCredits(keyId: string, amount: number, periodStart: Date, now: Date): Promise<boolean> {
    const refilled = await this.inner.refillCredits(keyId, amount, periodStart, now);
    // The cached record still says the refill is due; drop it so no one asks again this period.
    const record = refilled ? await this.inner.get(keyId) : undefined;
    if (record) await this.changed(record, record);
    return refilled;
  }

  changeCredits(keyId: string, change: CreditChange): Promise<number | undefined> {
    return this.inner.changeCredits(keyId, change);
  }

  recordUsage(updates: readonly UsageUpdate[]): Promise<void> {
    return this.inner.recordUsage(updates);
  }

  /**
   * Tells every replica, this one included, that a key changed: `before` names
   * the hashes cached copies may sit under, `after` is the key as it now is
   * (undefined once deleted), so that replicas answer from it at once without
   * asking the store. The shared cache only drops its copy.
   */
  private async changed(before: KeyRecord, after: KeyRecord | undefined): Promise<void> {
    const hashes = [...new Set([...secretHashes(before), ...(after ? secretHashes(after) : [])])];
    this.apply(hashes, after);
    if (await this.propagate(hashes, after)) return;
    for (const hash of hashes) this.unpropagated.add(hash);
    this.scheduleRetry();
  }

  /**
   * Tombstones in the shared cache, so that replicas cannot read the old copy
   * there, then the broadcast. True when both reached Redis.
   */
  private async propagate(hashes: readonly string[], record: KeyRecord | undefined): Promise<boolean> {
    const written = this.shared ? await this.shared.invalidate(hashes) : true;
    const published = this.bus ? await this.bus.publish({ hashes, record }) : true;
    return written && published;
  }

  /**
   * Sends the changes that could not reach Redis again, without the new
   * state (replicas ask the store, which has the latest), until they arrive.
   * Also run before this replica reads the shared cache, so that it never
   * reads back a copy its own change should have replaced. One attempt at a time.
   */
  private retryUnpropagated(): Promise<void> {
    this.retrying ??= (async () => {
      const hashes = [...this.unpropagated];
      if (await this.propagate(hashes, undefined)) {
        for (const hash of hashes) this.unpropagated.delete(hash);
      }
      this.retrying = undefined;
      this.scheduleRetry();
    })();
    return this.retrying;
  }

  private scheduleRetry(): void {
    if (this.unpropagated.size === 0 || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.retryUnpropagated();
    }, RETRY_MS).unref();
  }

  /**
   * Drops what this process holds for the hashes and cancels lookups in flight,
   * then keeps the new state of the key, if any. Kept only briefly: messages
   * from different replicas can arrive out of order, and the store settles it.
   */
  private apply(hashes: readonly string[], record: KeyRecord | undefined): void {
    this.generation += 1;
    for (const hash of hashes) {
      this.local?.delete(hash);
      this.invalidatedIn.set(hash, this.generation);
    }
    if (!record || this.settings.degradedTtlMs <= 0) return;
    for (const hash of secretHashes(record)) {
      if (hashes.includes(hash)) this.local?.set(hash, { record }, { ttl: this.settings.degradedTtlMs });
    }
  }

  /** The shared cache, then the store (filling the shared cache). */
  private async lookup(hash: string): Promise<Found> {
    if (this.unpropagated.size > 0) await this.retryUnpropagated();
    const shared = this.shared ? await this.shared.get(hash) : { kind: "unknown" as const };
    const now = Date.now();
    // A copy older than the TTL may have outlived a change whose invalidation was lost: ask the store.
    const stale = shared.kind === "hit" && now - shared.readAt >= this.settings.ttlMs;
    if (shared.kind !== "unknown" && !stale) {
      this.metrics?.cacheLookup("shared");
      return shared.kind === "hit" ? shared : { record: undefined, readAt: now };
    }
    this.metrics?.cacheLookup("store");
    const record = await this.inner.findByHash(hash);
    await this.shared?.fill(hash, record, now);
    return { record, readAt: now };
  }

  /**
   * How long this process keeps an answer. A key read from the store longer
   * ago than the cache TTL is not kept at all, wherever the copy came from:
   * so even a change whose invalidation never arrived is seen everywhere
   * within the TTL.
   */
  private ttlFor(record: KeyRecord | undefined, readAt: number): number {
    if (!record) return this.bus?.connected ? this.settings.absentTtlMs : this.settings.degradedTtlMs;
    const left = readAt + this.settings.ttlMs - Date.now();
    return Math.min(left, this.bus?.connected ? this.settings.ttlMs : this.settings.degradedTtlMs);
  }
}

function secretHashes(record: KeyRecord): string[] {
  return [record.hash, ...record.retiredSecrets.map((secret) => secret.hash)];
}
