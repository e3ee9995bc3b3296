import type { IncomingMessage } from "node:http";
import type { Http2ServerRequest } from "node:http2";
import { isIPv6 } from "node:net";

/** What a request without a usable authority is served as; Keyward decides nothing by the authority. */
const PLACEHOLDER_AUTHORITY = "authority.invalid";

/**
 * Gives connect-node an authority it can build a URL from (`:authority`, else
 * `host`, as Node reads them). connect-node throws, outside any error handling
 * and so bringing the process down, on an authority that does not parse or is
 * missing (HTTP/2 allows that); and Node's own HTTP/2 client sends `::1:8080`
 * for `[::1]:8080`. An IPv6 authority gets its brackets; anything else
 * unusable is replaced.
 */
export function repairAuthority(request: IncomingMessage | Http2ServerRequest): void {
  const name = request.headers[":authority"] !== undefined ? ":authority" : "host";
  const authority = request.headers[name];
  if (typeof authority === "string" && URL.canParse(`http://${authority}`)) return;
  request.headers[name] = typeof authority === "string" ? bracketed(authority) : PLACEHOLDER_AUTHORITY;
}

function bracketed(authority: string): string {
  const colon = authority.lastIndexOf(":");
  const host = authority.slice(0, colon);
  const repaired = `[${host}]${authority.slice(colon)}`;
  return colon > 0 && isIPv6(host) && URL.canParse(`http://${repaired}`) ? repaired : PLACEHOLDER_AUTHORITY;
}
