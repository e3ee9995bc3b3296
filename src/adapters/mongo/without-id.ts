/** A document as a record: everything but MongoDB's own `_id`. */
export function withoutId<T extends object>(document: T & { _id?: unknown }): T {
  const { _id, ...record } = document;
  return record as T;
}
