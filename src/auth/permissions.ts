import { ROOT_KEYSPACE } from "../keyspaces/builtin-keyspaces.js";

/**
 * Permissions are dot-separated names ("keyspace.billing.read_key",
 * "documents.write"). A granted permission may use `*` for any one segment,
 * except that `*` never stands for the reserved keyspace "root": rights over
 * root keys must be granted by name.
 */
const WILDCARD = "*";

/** Grants split into segments once per list; lists come from cached records, so this runs once per key version. */
const splitGrants = new WeakMap<readonly string[], readonly string[][]>();

/** The granted patterns, each split into its segments. */
export function grantSegments(granted: readonly string[]): readonly string[][] {
  let segments = splitGrants.get(granted);
  if (!segments) {
    segments = granted.map((pattern) => pattern.split("."));
    splitGrants.set(granted, segments);
  }
  return segments;
}

/** Whether one granted pattern covers the required permission. */
export function grantCovers(granted: string, required: string): boolean {
  return segmentsCover(granted.split("."), required.split("."));
}

/** Answers already worked out, per list of grants; VerifyKey asks the same question of the same key over and over. */
const answered = new WeakMap<readonly string[], Map<string, boolean>>();

/** Whether any of the granted patterns covers the required permission. */
export function grants(granted: readonly string[], required: string): boolean {
  let answers = answered.get(granted);
  if (!answers) {
    answers = new Map();
    answered.set(granted, answers);
  }
  let answer = answers.get(required);
  if (answer === undefined) {
    const wanted = required.split(".");
    answer = grantSegments(granted).some((segments) => segmentsCover(segments, wanted));
    // Bounded: a key meets only so many distinct permission names.
    if (answers.size < 1_000) answers.set(required, answer);
  }
  return answer;
}

function segmentsCover(granted: readonly string[], required: readonly string[]): boolean {
  if (granted.length !== required.length) return false;
  return granted.every((segment, i) => {
    const wanted = required[i];
    return segment === wanted || (segment === WILDCARD && wanted !== ROOT_KEYSPACE);
  });
}
