/**
 * Values made once per (object, key) and kept only while the object lives:
 * answers derived from a frozen, shared message are derived once.
 */
export class PerObjectMemo<O extends object, K, V> {
  private readonly byObject = new WeakMap<O, Map<K, V>>();

  get(object: O, key: K, make: () => V): V {
    let byKey = this.byObject.get(object);
    if (!byKey) {
      byKey = new Map();
      this.byObject.set(object, byKey);
    }
    let value = byKey.get(key);
    if (value === undefined) {
      value = make();
      byKey.set(key, value);
    }
    return value;
  }
}
