import { BSON } from "mongodb";
import type { JsonObject, KeyRecord } from "../../keys/key-record.js";

/**
 * A key record as text for the shared cache, in the driver's Extended JSON
 * (EJSON), which keeps Dates as Dates. `meta` travels as a JSON string of its
 * own, as in MongoDB: its field names are the caller's, and EJSON would read
 * one such as "$date" as a type. Fields left undefined are left out (EJSON
 * would write them as null).
 */
export function encodeRecord({ meta, ...record }: KeyRecord): string {
  const encoded = meta === undefined ? record : { ...record, meta: JSON.stringify(meta) };
  return BSON.EJSON.stringify(definedOnly(encoded), { relaxed: true });
}

/** The record back, its dates as Date objects again. */
export function decodeRecord(text: string): KeyRecord {
  const { meta, ...record } = BSON.EJSON.parse(text, { relaxed: true }) as Omit<KeyRecord, "meta"> & { meta?: string };
  return meta === undefined ? record : { ...record, meta: JSON.parse(meta) as JsonObject };
}

/** The value without the fields that are undefined, at any depth of plain objects and arrays. */
function definedOnly<T>(value: T): T {
  if (Array.isArray(value)) return value.map(definedOnly) as T;
  if (value === null || typeof value !== "object" || value instanceof Date) return value;
  const fields = Object.entries(value).filter(([, field]) => field !== undefined);
  return Object.fromEntries(fields.map(([name, field]) => [name, definedOnly(field)])) as T;
}
