/**
 * A stored record that does not have the shape Keyward writes (a null inside
 * an array, a missing field, a value of the wrong type). It is an error for
 * that record alone: lists skip it, lookups of it fail. It names the key and,
 * when that much could be read, its keyspace (so that authorization can decide
 * who may learn of it); never the document's contents.
 */
export class CorruptRecordError extends Error {
  override readonly name = "CorruptRecordError";
  constructor(
    readonly keyId: string,
    readonly keyspaceId: string | undefined,
    /** Where the record is damaged, as field paths with what was expected there; never the values found. */
    readonly problems: readonly string[],
  ) {
    super(`key ${keyId} is stored in a form Keyward cannot read (${problems.join("; ")})`);
  }
}
