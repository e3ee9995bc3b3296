const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * The token of an `authorization: Bearer <token>` header, or undefined when
 * the header is not one. The common exact form is read without a regular
 * expression: it runs on every authenticated call.
 */
export function bearerToken(header: string): string | undefined {
  if (header.startsWith("Bearer ") && !header.includes(" ", 7)) return header.slice(7) || undefined;
  return header.match(BEARER)?.[1];
}
