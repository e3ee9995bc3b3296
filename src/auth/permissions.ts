/**
 * Permissions are dot-separated names ("keyspace.billing.read_key",
 * "documents.write"). A granted permission may use `*` for any one segment,
 * except that `*` never stands for the reserved keyspace "root": rights over
 * root keys must be granted by name.
 */
export const ROOT_KEYSPACE = "root";
const WILDCARD = "*";

/** Whether one granted pattern covers the required permission. */
export function grantCovers(granted: string, required: string): boolean {
  const grantedSegments = granted.split(".");
  const requiredSegments = required.split(".");
  if (grantedSegments.length !== requiredSegments.length) return false;
  return grantedSegments.every((segment, i) => {
    const wanted = requiredSegments[i];
    return segment === wanted || (segment === WILDCARD && wanted !== ROOT_KEYSPACE);
  });
}

/** Whether any of the granted patterns covers the required permission. */
export function grants(granted: readonly string[], required: string): boolean {
  return granted.some((pattern) => grantCovers(pattern, required));
}
