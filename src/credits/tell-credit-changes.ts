import type { KeyStore } from "../ports/key-store.js";
import type { CreditLeases } from "./credit-leases.js";

/**
 * The key store as the key service uses it: before a key is read (GetKey and
 * every change, which reads it first) and after its credits are set or added
 * (UpdateCredits, UpdateKey), this replica gives its lease on the key back,
 * so that the key's `remaining` is the store's count of what no replica holds
 * and this replica's next verification sees a change at once. Other
 * replicas' leases of a set balance are void in the store: they learn at their
 * next lease write. Every other method is the store's own.
 */
export function tellCreditChanges(store: KeyStore, leases: Pick<CreditLeases, "release">): KeyStore {
  const told: Pick<KeyStore, "get" | "changeCredits" | "update"> = {
    async get(keyId) {
      await leases.release(keyId);
      return store.get(keyId);
    },
    async changeCredits(keyId, change) {
      const remaining = await store.changeCredits(keyId, change);
      if (remaining !== undefined) await leases.release(keyId);
      return remaining;
    },
    async update(keyId, changes) {
      const updated = await store.update(keyId, changes);
      if (updated && "remaining" in changes) await leases.release(keyId);
      return updated;
    },
  };
  return new Proxy(store, {
    get: (target, property, receiver) =>
      property === "get" || property === "changeCredits" || property === "update"
        ? told[property]
        : Reflect.get(target, property, receiver),
  });
}
