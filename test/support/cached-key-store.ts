import { propagateChanges } from "../../src/cache/propagate-changes.js";
import { VerificationCache } from "../../src/cache/verification-cache.js";
import type { KeyStore } from "../../src/ports/key-store.js";

/** A key store as the application wires it: lookups through a verification cache that hears of every change. */
export type CachedKeyStore = KeyStore & { readonly cache: VerificationCache; close(): void; readonly version: number };

/** The store behind a new verification cache made with `options`. */
export function cachedKeyStore(
  inner: KeyStore,
  options: ConstructorParameters<typeof VerificationCache>[1],
): CachedKeyStore {
  const cache = new VerificationCache(inner, options);
  return Object.defineProperties(propagateChanges(inner, cache), {
    cache: { value: cache },
    close: { value: () => cache.close() },
    version: { get: () => cache.version },
  }) as CachedKeyStore;
}
