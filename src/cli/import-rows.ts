import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ImportKeySchema } from "../../gen/keyward/v1/key_service_pb.js";

/** One row of an export: its line (or index) in the file, and its columns by name. */
export interface ExportRow {
  readonly row: number;
  readonly fields: Readonly<Record<string, string>>;
}

/**
 * Reads an export: CSV with a header line (RFC 4180 quoting), a JSON array
 * of objects, or JSON lines (one object a line), told apart by the first
 * character. Rows are numbered from 1, the header not counted.
 */
export function readExport(text: string): ExportRow[] {
  const body = text.replace(/^\uFEFF/, "").trim();
  if (body.startsWith("[")) return (JSON.parse(body) as Record<string, unknown>[]).map(toRow);
  if (body.startsWith("{"))
    return body
      .split(/\r?\n/)
      .filter((line) => line.trim() !== "")
      .map((line, i) => toRow(JSON.parse(line), i));
  const [header, ...records] = parseCsv(body);
  const names = (header ?? []).map((name) => name.trim().toLowerCase());
  return records
    .filter((cells) => cells.some((cell) => cell !== ""))
    .map((cells, i) => ({ row: i + 1, fields: Object.fromEntries(names.map((name, j) => [name, cells[j] ?? ""])) }));
}

function toRow(value: Record<string, unknown>, index: number): ExportRow {
  const fields = Object.fromEntries(
    Object.entries(value).map(([name, field]) => [
      name.toLowerCase(),
      typeof field === "string" ? field : JSON.stringify(field),
    ]),
  );
  return { row: index + 1, fields };
}

function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (char === '"') quoted = false;
      else cell += char;
    } else if (char === '"') quoted = true;
    else if (char === ",") {
      row.push(cell);
      cell = "";
    } else if (char === "\n" || char === "\r") {
      if (char === "\r" && text[i + 1] === "\n") i++;
      row.push(cell);
      rows.push(row);
      [row, cell] = [[], ""];
    } else cell += char;
  }
  row.push(cell);
  rows.push(row);
  return rows;
}

const words = (text: string | undefined) => (text ?? "").split(/\s+/).filter((word) => word !== "");

/**
 * An export row as ImportKeys takes it. Columns: `key` (the plaintext) or
 * `sha256` (hex or base64), `prefix`, `start`, `name`, `owner_id`, `org_id`,
 * `environment`, `expires_at` (ISO 8601), `meta` (a JSON object),
 * `permissions`, `roles`, `scopes` (separated by spaces), `remaining`.
 * Throws, naming the column, on what cannot be read here; Keyward checks the rest.
 */
export function toImportKey(
  fields: Readonly<Record<string, string>>,
  defaults: { readonly keyspaceId: string; readonly prefix: string },
): MessageInitShape<typeof ImportKeySchema> {
  const plaintext = fields.key || fields.plaintext;
  const sha256 = fields.sha256 || fields.hash;
  if (!plaintext === !sha256) throw new Error("key / sha256: exactly one of them must be given");
  const expiresAt = fields.expires_at ? new Date(fields.expires_at) : undefined;
  if (expiresAt && Number.isNaN(expiresAt.getTime())) throw new Error("expires_at: not an ISO 8601 time");
  let meta: Record<string, unknown> | undefined;
  if (fields.meta) {
    try {
      meta = JSON.parse(fields.meta);
    } catch {
      throw new Error("meta: not JSON");
    }
    if (typeof meta !== "object" || meta === null || Array.isArray(meta)) throw new Error("meta: not a JSON object");
  }
  if (fields.remaining && !/^\d{1,13}$/.test(fields.remaining)) throw new Error("remaining: not a whole number");
  return {
    settings: {
      keyspaceId: defaults.keyspaceId,
      name: fields.name || "imported",
      prefix: fields.prefix || defaults.prefix,
      ownerId: fields.owner_id ?? "",
      orgId: fields.org_id ?? "",
      environment: fields.environment ?? "",
      ...(expiresAt && { expiresAt: timestampFromDate(expiresAt) }),
      ...(meta && { meta: meta as never }),
      permissions: words(fields.permissions),
      roles: words(fields.roles),
      scopes: words(fields.scopes),
      ...(fields.remaining && { remaining: BigInt(fields.remaining) }),
    },
    secret: plaintext ? { case: "plaintext", value: plaintext } : { case: "sha256", value: sha256 as string },
    start: fields.start ?? "",
  };
}
