import type { CheckRequest } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { bearerToken } from "../chain/bearer-token.js";

/** The key a checked request carries, and the header it came in (to be removed before the request goes on). */
export interface PresentedKey {
  readonly key: string;
  readonly header: string;
}

/**
 * Finds the key in the first of `headerNames` the request has. For
 * `authorization` only a Bearer token counts. Envoy sends headers as a map,
 * or as a list when it is told to keep raw headers; both are read.
 */
export function presentedKey(request: CheckRequest, headerNames: readonly string[]): PresentedKey | undefined {
  const http = request.attributes?.request?.http;
  const headers = new Map<string, string>(Object.entries(http?.headers ?? {}));
  for (const { key, value, rawValue } of http?.headerMap?.headers ?? []) {
    headers.set(key.toLowerCase(), value || new TextDecoder().decode(rawValue));
  }
  for (const header of headerNames) {
    const value = headers.get(header)?.trim();
    if (!value) continue;
    const key = header === "authorization" ? bearerToken(value) : value;
    if (key) return { key, header };
  }
  return undefined;
}
