import type { UpdateFilter } from "mongodb";
import { z } from "zod";
import type { JsonObject, KeyChanges, KeyRecord } from "../../keys/key-record.js";
import { CorruptRecordError } from "../../ports/corrupt-record-error.js";

/**
 * A key as MongoDB holds it: the record's fields, with `meta` kept as a JSON
 * string so that caller-chosen field names (dots, dollar signs) never meet
 * MongoDB's rules for field names. `_id` is the driver's ObjectId; keys are
 * found by their own indexed `keyId`.
 */
export type KeyDocument = Omit<KeyRecord, "meta"> & { meta?: string | undefined };

/** How many of a damaged document's problems an error names. */
const MAX_PROBLEMS = 5;

const count = z.number().int();
/** Optional means absent: Keyward never stores null, so a null anywhere is damage (an `$unset` inside an array leaves one). */
const usageCount = count.nonnegative().optional();

/**
 * What every key document must look like to be read: exactly what
 * `toDocument` writes. Fields it does not know are dropped (`_id` among them);
 * a field of KeyDocument missing here, optional or not, fails to compile.
 */
const keyDocumentSchema = z.object({
  keyId: z.string(),
  keyspaceId: z.string(),
  hash: z.string(),
  retiredSecrets: z.array(z.object({ hash: z.string(), validUntil: z.date() })),
  name: z.string(),
  description: z.string(),
  ownerId: z.string(),
  orgId: z.string(),
  environment: z.string(),
  enabled: z.boolean(),
  expiresAt: z.date().optional(),
  meta: z.string().optional(),
  scopes: z.array(z.string()),
  roles: z.array(z.string()),
  permissions: z.array(z.string()),
  remaining: count.optional(),
  refill: z
    .object({
      interval: z.enum(["daily", "monthly"]),
      amount: count,
      refillDay: count,
      lastRefilledAt: z.date().optional(),
    })
    .optional(),
  // A Duration with nanoseconds makes a fraction of a millisecond.
  ratelimits: z.array(z.object({ name: z.string(), limit: count, durationMs: z.number().nonnegative() })),
  prefix: z.string(),
  byteLength: count,
  start: z.string(),
  createdBy: z.string(),
  createdAt: z.date(),
  updatedAt: z.date(),
  lastUsedAt: z.date().optional(),
  usage: z
    .object({
      valid: usageCount,
      revoked: usageCount,
      disabled: usageCount,
      expired: usageCount,
      insufficientPermissions: usageCount,
      rateLimited: usageCount,
      usageExceeded: usageCount,
    })
    .optional(),
  revoked: z.boolean(),
  revokedAt: z.date().optional(),
  revocationReason: z.string(),
} satisfies { [Field in keyof KeyDocument]-?: z.ZodType }) satisfies z.ZodType<KeyDocument>;

/** The record as a document. */
export function toDocument(record: KeyRecord): KeyDocument {
  const fields = Object.entries({ ...record, meta: encodeMeta(record.meta) });
  return Object.fromEntries(fields.filter(([, value]) => value !== undefined)) as KeyDocument;
}

/**
 * The document as a record, checked field by field: a document of any other
 * shape is a CorruptRecordError naming the key and where it is damaged, never
 * what it holds.
 */
export function fromDocument(document: object): KeyRecord {
  const parsed = keyDocumentSchema.safeParse(document);
  const problems = parsed.success ? [] : parsed.error.issues.map((issue) => `${pathOf(issue.path)}: ${issue.message}`);
  const meta = parsed.success ? decodeMeta(parsed.data.meta) : undefined;
  if (meta === INVALID_META) problems.push("meta: not a JSON object");
  if (!parsed.success || meta === INVALID_META) {
    const { keyId, keyspaceId, _id } = document as { keyId?: unknown; keyspaceId?: unknown; _id?: unknown };
    throw new CorruptRecordError(
      typeof keyId === "string" ? keyId : `(no key id; _id ${String(_id)})`,
      typeof keyspaceId === "string" ? keyspaceId : undefined,
      problems.slice(0, MAX_PROBLEMS),
    );
  }
  const { meta: _, ...fields } = parsed.data;
  return meta === undefined ? fields : { ...fields, meta };
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

const INVALID_META = Symbol("invalid meta");

function decodeMeta(text: string | undefined): JsonObject | undefined | typeof INVALID_META {
  if (text === undefined) return undefined;
  try {
    const meta: unknown = JSON.parse(text);
    return typeof meta === "object" && meta !== null && !Array.isArray(meta) ? (meta as JsonObject) : INVALID_META;
  } catch {
    return INVALID_META;
  }
}

/** `ratelimits.0.limit`, as the paths of update masks read. */
function pathOf(path: readonly PropertyKey[]): string {
  return path.map(String).join(".") || "(document)";
}
