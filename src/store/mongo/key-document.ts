import type { UpdateFilter } from "mongodb";
import type { JsonObject, KeyChanges, KeyRecord } from "../../keys/key-record.js";

/**
 * A key as MongoDB holds it: the record's fields, with `meta` kept as a JSON
 * string so that caller-chosen field names (dots, dollar signs) never meet
 * MongoDB's rules for field names. `_id` is the driver's ObjectId; keys are
 * found by their own indexed `keyId`.
 */
export type KeyDocument = Omit<KeyRecord, "meta"> & { meta?: string };

/** The record as a document. */
export function toDocument(record: KeyRecord): KeyDocument {
  const fields = Object.entries({ ...record, meta: encodeMeta(record.meta) });
  return Object.fromEntries(fields.filter(([, value]) => value !== undefined)) as KeyDocument;
}

/** The document as a record, without MongoDB's `_id`. */
export function fromDocument(document: KeyDocument & { _id?: unknown }): KeyRecord {
  const { _id, meta, ...fields } = document;
  return { ...fields, meta: meta === undefined ? undefined : (JSON.parse(meta) as JsonObject) };
}

/** The changes as a MongoDB update: `$set` for values, `$unset` for fields present but undefined. */
export function toUpdate(changes: KeyChanges): UpdateFilter<KeyDocument> {
  const $set: Record<string, unknown> = {};
  const $unset: Record<string, ""> = {};
  for (const [field, value] of Object.entries(changes)) {
    if (value === undefined) $unset[field] = "";
    else $set[field] = field === "meta" ? encodeMeta(value as JsonObject) : value;
  }
  // Older servers reject an empty operator, so leave out the one with nothing to do.
  return { ...(Object.keys($set).length > 0 && { $set }), ...(Object.keys($unset).length > 0 && { $unset }) };
}

function encodeMeta(meta: JsonObject | undefined): string | undefined {
  return meta === undefined ? undefined : JSON.stringify(meta);
}
