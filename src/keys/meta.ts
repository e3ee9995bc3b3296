import type { JsonObject } from "./key-record.js";

/** How large a key's meta may be, as JSON text: it travels with every cached copy and verification answer. */
export const MAX_META_BYTES = 16_384;

/** Whether `meta` is within MAX_META_BYTES as UTF-8 JSON. */
export function metaFits(meta: JsonObject | undefined): boolean {
  return meta === undefined || new TextEncoder().encode(JSON.stringify(meta)).length <= MAX_META_BYTES;
}
