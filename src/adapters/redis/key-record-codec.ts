import type { KeyRecord } from "../../keys/key-record.js";

const DATE_FIELDS = new Set([
  "expiresAt",
  "createdAt",
  "updatedAt",
  "lastUsedAt",
  "revokedAt",
  "validUntil",
  "lastRefilledAt",
]);

/** A key record as JSON text, for the shared cache. */
export function encodeRecord(record: KeyRecord): string {
  return JSON.stringify(record);
}

/** The record back, its dates as Date objects again. */
export function decodeRecord(text: string): KeyRecord {
  return JSON.parse(text, (field, value) =>
    DATE_FIELDS.has(field) && typeof value === "string" ? new Date(value) : value,
  ) as KeyRecord;
}
