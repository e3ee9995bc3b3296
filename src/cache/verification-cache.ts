import { LRUCache } from "lru-cache";
import { type Clock, systemClock } from "../keys/clock.js";
import { type KeyRecord, secretHashes } from "../keys/key-record.js";
import { sameVerifiableKey, type VerifiableKey, verifiableKey } from "../keys/verifiable-key.js";
import type { Metrics } from "../observability/metrics.js";
import type { KeyLookup } from "../ports/key-records.js";
import type { Invalidation, InvalidationBus, SharedKeyCache } from "../ports/shared-key-cache.js";
import { estimatedEntryBytes } from "./entry-size.js";

/** How long this process trusts what it cached. */
export interface LocalCacheSettings {
  /** What the entries may take in memory, by their estimated size (answers made from them included); 0: no local cache. */
  readonly maxBytes: number;
  /** Deprecated (KEYWARD_CACHE_MAX_ENTRIES): a bound on the number of entries as well, when set. */
  readonly maxEntries?: number | undefined;
  /** While invalidations arrive over the bus. */
  readonly ttlMs: number;
  /** While they do not (no Redis, or the subscription is down): the bound on staleness. */
  readonly degradedTtlMs: number;
  /** For hashes no key has. */
  readonly absentTtlMs: number;
}

/** What this process remembers for a hash: the record, or that there is none. */
type Entry = { readonly record: VerifiableKey | undefined };
/** An answer to a lookup, with when it was read from the key store. */
type Found = { readonly record: VerifiableKey | undefined; readonly readAt: number };

/** How often a change that could not reach Redis is sent again. */
const RETRY_MS = 1_000;
/**
 * How far a change message's send time may be from this replica's clock for
 * the key state it carries to be used (clocks of replicas differ a little; a
 * replayed message is older). Outside it, the message only drops copies.
 */
const MESSAGE_FRESH_MS = 5_000;

/** The last change this replica heard of for a hash. */
interface HeardChange {
  /** The generation it bumped: lookups begun before it were overtaken. */
  readonly generation: number;
  /** The newest send time of any message about the hash: older messages cannot overrule it. */
  readonly sentAt: number;
  /** When this replica heard it (its clock): a shared copy read from the store before then is stale. */
  readonly heardAt: number;
}

/**
 * The verification cache: `findByHash` asks this process's LRU, then the
 * shared cache, then the store, and remembers misses too so that repeated
 * unknown keys stop at the first layer. `changed` is told of every change to
 * a key (see propagateChanges) and invalidates the hashes it touched
 * everywhere. A lookup that an invalidation overtook is asked again and not
 * cached, so stale data cannot land. It serves lookups only: management reads
 * (get, list) always go to the store.
 *
 * Redis is not trusted (its values and messages are authenticated, see
 * RedisKeyCache), and even an authenticated value may be replayed: so a shared
 * copy read from the store before this replica last heard its key change is
 * refused, and a change message older than the newest one heard for its key
 * only drops copies, never supplies the key's state.
 */
export class VerificationCache implements KeyLookup {
  /** Absent when configured with no entries: every lookup then starts at the shared cache. */
  private readonly local: LRUCache<string, Entry> | undefined;
  /** Bumped by every change this store hears of; a lookup remembers it to notice being overtaken. */
  private generation = 0;
  private readonly heard: LRUCache<string, HeardChange>;
  /** Hashes whose change has not reached Redis yet (tombstones and broadcast), sent again until it has. */
  private readonly unpropagated = new Set<string>();
  private retryTimer: NodeJS.Timeout | undefined;
  private retrying: Promise<void> | undefined;
  /** Once closed, no change is sent again. */
  private closed = false;

  private readonly settings: LocalCacheSettings;
  private readonly shared: SharedKeyCache | undefined;
  private readonly bus: InvalidationBus | undefined;
  private readonly metrics: Pick<Metrics, "cacheLookup"> | undefined;
  private readonly clock: Clock;

  constructor(
    private readonly inner: KeyLookup,
    options: {
      readonly settings: LocalCacheSettings;
      /** The cache replicas share (Redis); without one, lookups go from this process to the store. */
      readonly shared?: SharedKeyCache;
      /** How changes reach other replicas; without one, entries live only the degraded TTL. */
      readonly bus?: InvalidationBus;
      readonly metrics?: Pick<Metrics, "cacheLookup">;
      readonly clock?: Clock;
    },
  ) {
    ({ settings: this.settings, shared: this.shared, bus: this.bus, metrics: this.metrics } = options);
    const { settings, bus } = options;
    this.clock = options.clock ?? systemClock;
    const perf = { now: this.clock };
    if (settings.maxBytes > 0 && settings.maxEntries !== 0) {
      this.local = new LRUCache({
        maxSize: settings.maxBytes,
        sizeCalculation: (entry) => estimatedEntryBytes(entry.record),
        ...(settings.maxEntries ? { max: settings.maxEntries } : {}),
        ttl: settings.ttlMs,
        // An expired entry stays until replaced or evicted, so that a key read again unchanged keeps its object.
        noDeleteOnStaleGet: true,
        perf,
      });
    }
    // A change heard longer ago than the TTL cannot matter: every copy read before it is too old anyway.
    // Kept at least as long as a message counts as fresh, so that a replayed older one is still told apart.
    this.heard = new LRUCache({ max: 100_000, ttl: Math.max(settings.ttlMs, MESSAGE_FRESH_MS), perf });
    bus?.subscribe(
      (invalidation) => this.apply(invalidation),
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

  /** What this process's entries take, by their estimated size (at most the setting's bytes). */
  get localBytes(): number {
    return this.local?.calculatedSize ?? 0;
  }

  async findByHash(hash: string): Promise<VerifiableKey | undefined> {
    const cached = this.local?.get(hash);
    if (cached) {
      this.metrics?.cacheLookup("local");
      return cached.record;
    }
    const started = this.generation;
    const { record, readAt } = await this.lookup(hash);
    if ((this.heard.get(hash)?.generation ?? -1) > started) {
      // Changed while we looked: the answer may predate the change. Ask the store itself, and keep nothing.
      return viewOf(await this.inner.findByHash(hash));
    }
    const ttl = this.ttlFor(record, readAt);
    if (ttl <= 0) return record;
    const kept = this.renewed(hash, record);
    this.local?.set(hash, { record: kept }, { ttl });
    return kept;
  }

  /**
   * The object already cached for the hash when the key read again says the
   * same: the answers and encodings made from it (kept while it lives) are
   * reused instead of made again at every renewal, which would fill V8's old
   * generation with copies that die a TTL later. A change drops the entry
   * first (apply), so a changed key always gets a new object.
   */
  private renewed(hash: string, record: VerifiableKey | undefined): VerifiableKey | undefined {
    const previous = this.local?.peek(hash, { allowStale: true })?.record;
    return previous && record && sameVerifiableKey(previous, record) ? previous : record;
  }

  /** Stops sending changes that have not reached Redis yet. */
  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
  }

  /**
   * Tells every replica, this one included, that a key changed: `before` names
   * the hashes cached copies may sit under, `after` is the key as it now is
   * (undefined once deleted), so that replicas answer from it at once without
   * asking the store. The shared cache only drops its copy.
   */
  async changed(before: KeyRecord, after: KeyRecord | undefined): Promise<void> {
    const hashes = [...new Set([...secretHashes(before), ...(after ? secretHashes(after) : [])])];
    const invalidation = { hashes, record: viewOf(after), sentAt: this.clock() };
    this.apply(invalidation);
    if (await this.propagate(invalidation)) return;
    for (const hash of hashes) this.unpropagated.add(hash);
    this.scheduleRetry();
  }

  /**
   * Tombstones in the shared cache, so that replicas cannot read the old copy
   * there, then the broadcast. True when both reached Redis.
   */
  private async propagate(invalidation: Invalidation): Promise<boolean> {
    const written = this.shared ? await this.shared.invalidate(invalidation.hashes) : true;
    const published = this.bus ? await this.bus.publish(invalidation) : true;
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
      try {
        const hashes = [...this.unpropagated];
        if (await this.propagate({ hashes, sentAt: this.clock() })) {
          for (const hash of hashes) this.unpropagated.delete(hash);
        }
      } finally {
        this.retrying = undefined;
        this.scheduleRetry();
      }
    })();
    return this.retrying;
  }

  private scheduleRetry(): void {
    if (this.closed || this.unpropagated.size === 0 || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.retryUnpropagated();
    }, RETRY_MS).unref();
  }

  /**
   * Drops what this process holds for the hashes and cancels lookups in flight,
   * then keeps the new state of the key, if any, when the message is fresh and
   * no newer one about these hashes has been heard. Kept only briefly: messages
   * from different replicas can arrive out of order, and the store settles it.
   */
  private apply({ hashes, record, sentAt }: Invalidation): void {
    const now = this.clock();
    this.generation += 1;
    let newest = Math.abs(now - sentAt) <= MESSAGE_FRESH_MS;
    for (const hash of hashes) {
      this.local?.delete(hash);
      const last = this.heard.get(hash);
      if (last && last.sentAt > sentAt) newest = false;
      this.heard.set(hash, {
        generation: this.generation,
        sentAt: Math.max(sentAt, last?.sentAt ?? sentAt),
        heardAt: now,
      });
    }
    if (!record || !newest || this.settings.degradedTtlMs <= 0) return;
    const view = verifiableKey(record);
    for (const hash of secretHashes(view)) {
      if (hashes.includes(hash)) this.local?.set(hash, { record: view }, { ttl: this.settings.degradedTtlMs });
    }
  }

  /** The shared cache, then the store (filling the shared cache). */
  private async lookup(hash: string): Promise<Found> {
    if (this.unpropagated.size > 0) await this.retryUnpropagated();
    const shared = this.shared ? await this.shared.get(hash) : { kind: "unknown" as const };
    const now = this.clock();
    // A copy older than the TTL may have outlived a change whose invalidation was lost, and one read
    // before the key's last change heard here is outdated or replayed: ask the store.
    const heardAt = this.heard.get(hash)?.heardAt ?? Number.NEGATIVE_INFINITY;
    const stale = shared.kind === "hit" && (now - shared.readAt >= this.settings.ttlMs || shared.readAt < heardAt);
    if (shared.kind !== "unknown" && !stale) {
      this.metrics?.cacheLookup("shared");
      return shared.kind === "hit" ? shared : { record: undefined, readAt: now };
    }
    this.metrics?.cacheLookup("store");
    const record = viewOf(await this.inner.findByHash(hash));
    await this.shared?.fill(hash, record, now);
    return { record, readAt: now };
  }

  /**
   * How long this process keeps an answer. A key read from the store longer
   * ago than the cache TTL is not kept at all, wherever the copy came from:
   * so even a change whose invalidation never arrived is seen everywhere
   * within the TTL.
   */
  private ttlFor(record: VerifiableKey | undefined, readAt: number): number {
    if (!record) return this.bus?.connected ? this.settings.absentTtlMs : this.settings.degradedTtlMs;
    const left = readAt + this.settings.ttlMs - this.clock();
    return Math.min(left, this.bus?.connected ? this.settings.ttlMs : this.settings.degradedTtlMs);
  }
}

/** Only what verification reads, so that a cached key holds on to nothing else (the store answers whole records). */
function viewOf(record: VerifiableKey | undefined): VerifiableKey | undefined {
  return record && verifiableKey(record);
}
