import type { KeyStore } from "../ports/key-store.js";
import type { CreditLeases } from "./credit-leases.js";

/**
 * The key store as the key service uses it: after credits are set or added
 * on this replica (UpdateCredits, UpdateKey), its lease on the key goes back
 * and what it knew of the balance is forgotten, so its next verification
 * sees the change at once. Other replicas' leases of a set balance are void
 * in the store: they learn at their next lease write. Every other method is
 * the store's own.
 */
export function tellCreditChanges(store: KeyStore, leases: Pick<CreditLeases, "changed">): KeyStore {
  const told: Pick<KeyStore, "changeCredits" | "update"> = {
    async changeCredits(keyId, change) {
      const remaining = await store.changeCredits(keyId, change);
      if (remaining !== undefined) await leases.changed(keyId);
      return remaining;
    },
    async update(keyId, changes) {
      const updated = await store.update(keyId, changes);
      if (updated && "remaining" in changes) await leases.changed(keyId);
      return updated;
    },
  };
  return new Proxy(store, {
    get: (target, property, receiver) =>
      property === "changeCredits" || property === "update" ? told[property] : Reflect.get(target, property, receiver),
  });
}
