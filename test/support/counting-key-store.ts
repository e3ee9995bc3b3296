import type { KeyStore } from "../../src/ports/key-store.js";

/** A key store that counts the calls it receives, for tests that promise a layer keeps calls away. */
export function countingKeyStore(inner: KeyStore): { store: KeyStore; calls: Record<string, number> } {
  const calls: Record<string, number> = {};
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls[String(property)] = (calls[String(property)] ?? 0) + 1;
        return value.apply(target, args);
      };
    },
  });
  return { store, calls };
}
