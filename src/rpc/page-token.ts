import { Code, ConnectError } from "@connectrpc/connect";

/**
 * Page tokens are opaque to callers: the id of the last item of the previous
 * page, base64url-encoded behind a version tag so the format can change.
 */
const VERSION = "v1:";

export function encodePageToken(lastId: string): string {
  return Buffer.from(VERSION + lastId).toString("base64url");
}

/** The id the next page starts after; INVALID_ARGUMENT when the token was not made by `encodePageToken`. */
export function decodePageToken(token: string, idPattern: RegExp): string | undefined {
  if (token === "") return undefined;
  const text = Buffer.from(token, "base64url").toString();
  const id = text.slice(VERSION.length);
  if (!text.startsWith(VERSION) || !idPattern.test(id)) {
    throw new ConnectError("page_token: not a token from a previous page", Code.InvalidArgument);
  }
  return id;
}
