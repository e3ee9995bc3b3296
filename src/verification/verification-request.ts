import { type PermissionQuery, parsePermissionQuery } from "../auth/permission-query.js";
import type { LimitOverride } from "../ratelimit/limits.js";

/**
 * A verification as any front end (VerifyKey, Envoy's Check, anything later)
 * hands it over, before its rules are checked: the same rules whoever calls,
 * so that no entry point can pass a negative cost or an unbounded key on.
 * They match VerifyKeyRequest's protovalidate rules (a test holds them equal).
 */
export interface VerificationInput {
  readonly key: string;
  readonly permissionQuery: string;
  /** Absent: 1. */
  readonly cost?: number | undefined;
  readonly overrides: readonly LimitOverride[];
}

/** A verification whose input passed the rules. */
export interface VerificationRequest {
  readonly key: string;
  readonly query?: PermissionQuery | undefined;
  readonly cost: number;
  readonly overrides: readonly LimitOverride[];
}

/** Input that broke a rule: the field (as the API names it) and what is wrong. */
export interface InvalidInput {
  readonly field: string;
  readonly message: string;
}

export type ReadResult =
  | { readonly kind: "valid"; readonly request: VerificationRequest }
  | { readonly kind: "invalid"; readonly problem: InvalidInput };

const MAX_KEY_LENGTH = 512;
const MAX_QUERY_LENGTH = 1_000;
export const MAX_COST = 1_000_000;
const MAX_OVERRIDES = 10;
const MAX_OVERRIDE_LIMIT = 1_000_000_000;
const OVERRIDE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const MIN_DURATION_MS = 1_000;
const MAX_DURATION_MS = 2_592_000_000;

/** Checks a verification's input against its rules; a malformed permission query says where it goes wrong. */
export function readVerificationRequest(input: VerificationInput): ReadResult {
  const invalid = (field: string, message: string): ReadResult => ({ kind: "invalid", problem: { field, message } });
  const { key, permissionQuery, overrides } = input;
  if (key.length < 1 || longerThan(key, MAX_KEY_LENGTH)) {
    return invalid("key", `must be 1 to ${MAX_KEY_LENGTH} characters`);
  }
  if (longerThan(permissionQuery, MAX_QUERY_LENGTH)) {
    return invalid("permission_query", `must be at most ${MAX_QUERY_LENGTH} characters`);
  }
  const cost = input.cost ?? 1;
  if (!isWholeNumber(cost, 0, MAX_COST)) return invalid("cost", `must be a whole number from 0 to ${MAX_COST}`);
  if (overrides.length > MAX_OVERRIDES) return invalid("ratelimits", `must have at most ${MAX_OVERRIDES} entries`);
  for (const [i, override] of overrides.entries()) {
    const problem = overrideProblem(override);
    if (problem) return invalid(`ratelimits[${i}].${problem.field}`, problem.message);
  }
  let query: PermissionQuery | undefined;
  if (permissionQuery.trim() !== "") {
    const parsed = parsePermissionQuery(permissionQuery);
    if (parsed.kind === "error") {
      return invalid("permission_query", `${parsed.error.message} at position ${parsed.error.position}`);
    }
    query = parsed.query;
  }
  return { kind: "valid", request: { key, query, cost, overrides } };
}

function overrideProblem(override: LimitOverride): InvalidInput | undefined {
  if (!OVERRIDE_NAME.test(override.name)) {
    return { field: "name", message: "must be 1 to 64 letters, digits, '_', '.' or '-'" };
  }
  if (override.cost !== undefined && !isWholeNumber(override.cost, 0, MAX_COST)) {
    return { field: "cost", message: `must be a whole number from 0 to ${MAX_COST}` };
  }
  if (override.limit !== undefined && !isWholeNumber(override.limit, 1, MAX_OVERRIDE_LIMIT)) {
    return { field: "limit", message: `must be a whole number from 1 to ${MAX_OVERRIDE_LIMIT}` };
  }
  const duration = override.durationMs;
  if (duration !== undefined && !(duration >= MIN_DURATION_MS && duration <= MAX_DURATION_MS)) {
    return { field: "duration", message: "must be from 1 second to 30 days" };
  }
  return undefined;
}

/** Whether the text has more than `max` characters, counted as protovalidate counts them (code points). */
function longerThan(text: string, max: number): boolean {
  // UTF-16 units are never fewer than code points: only a long text needs counting.
  if (text.length <= max) return false;
  let count = 0;
  for (const _ of text) if (++count > max) return true;
  return false;
}

/** Whether `value` is an integer in [min, max] (not NaN, not fractional, not beyond a double's exact range). */
function isWholeNumber(value: number, min: number, max: number): boolean {
  return Number.isSafeInteger(value) && value >= min && value <= max;
}
