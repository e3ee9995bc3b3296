import type { VerifiableKey } from "../keys/verifiable-key.js";

/** What the shared cache knows about a secret's hash. */
export type SharedLookup =
  /** `readAt`: when the copy was read from the key store (ms since the epoch), so no replica keeps it too long. */
  | { readonly kind: "hit"; readonly record: VerifiableKey; readonly readAt: number }
  /** The key store had no key with this hash when it was last asked. */
  | { readonly kind: "absent" }
  /** Not cached, recently invalidated, or the cache could not be reached: ask the key store. */
  | { readonly kind: "unknown" };

/**
 * The cache every replica shares (Redis), between each replica's own memory
 * and the key store. Failures never surface: an unreachable cache is a miss.
 */
export interface SharedKeyCache {
  get(hash: string): Promise<SharedLookup>;
  /** Stores the key store's answer, read at `readAt`, unless the hash was invalidated meanwhile (so stale data cannot land). */
  fill(hash: string, record: VerifiableKey | undefined, readAt: number): Promise<void>;
  /** Forgets the hashes and refuses fills of them for a while; false when the cache could not be reached. */
  invalidate(hashes: readonly string[]): Promise<boolean>;
}

/**
 * A change that cached copies must follow: a key's secret hashes, with the key
 * as it now is (absent: ask the store), and when the change was sent (ms since
 * the epoch, the sender's clock), so that an older message cannot overrule a newer one.
 */
export interface Invalidation {
  readonly hashes: readonly string[];
  readonly record?: VerifiableKey | undefined;
  readonly sentAt: number;
}

/** Tells every replica what changed (Redis pub/sub). */
export interface InvalidationBus {
  /** False when the message could not be sent. */
  publish(invalidation: Invalidation): Promise<boolean>;
  /**
   * `onMessage` gets every authenticated invalidation, from this replica too. `onGap` is
   * called whenever messages may have been missed (the subscription dropped or
   * came back): everything cached must go.
   */
  subscribe(onMessage: (invalidation: Invalidation) => void, onGap: () => void): void;
  /** Whether invalidations are arriving right now. */
  readonly connected: boolean;
  close(): Promise<void>;
}
