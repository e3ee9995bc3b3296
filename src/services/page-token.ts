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

/** What a list call returns when it asks for no page size. */
const DEFAULT_PAGE_SIZE = 100;

/** How many records to ask the store for: one more than the page, to learn whether another page follows. */
export function pageLimit(pageSize: number): number {
  return (pageSize || DEFAULT_PAGE_SIZE) + 1;
}

/** The page out of what the store answered for `pageLimit`, and the token of the next page ("" after the last). */
export function toPage<T>(records: readonly T[], pageSize: number, idOf: (record: T) => string) {
  const limit = pageLimit(pageSize) - 1;
  const page = records.slice(0, limit);
  const last = page.at(-1);
  return { page, nextPageToken: records.length > limit && last ? encodePageToken(idOf(last)) : "" };
}
