/**
 * Permission queries for VerifyKey: permission names joined by AND and OR,
 * grouped with parentheses; AND binds tighter than OR. Keywords are
 * case-insensitive. Parsing is separate from evaluation so that a malformed
 * query is reported with its position before any key is looked at.
 */
export type PermissionQuery =
  | { readonly kind: "permission"; readonly name: string }
  | { readonly kind: "and" | "or"; readonly terms: readonly PermissionQuery[] };

/** A query that could not be parsed: what was expected, and where (1-based). */
export interface QuerySyntaxError {
  readonly message: string;
  readonly position: number;
}

export type ParseResult =
  | { readonly kind: "query"; readonly query: PermissionQuery }
  | { readonly kind: "error"; readonly error: QuerySyntaxError };

const MAX_DEPTH = 32;

interface Token {
  readonly text: string;
  readonly position: number;
  readonly type: "(" | ")" | "and" | "or" | "name";
}

class SyntaxFault extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
  }
}

/** Parses a query, or says what is wrong and where. */
export function parsePermissionQuery(text: string): ParseResult {
  const tokens = tokenize(text);
  let next = 0;
  const peek = (): Token | undefined => tokens[next];
  const end = text.length + 1;
  const describe = (token: Token | undefined) => (token ? `"${token.text}"` : "the end of the query");

  const parseOr = (depth: number): PermissionQuery => {
    const terms = [parseAnd(depth)];
    while (peek()?.type === "or") {
      next += 1;
      terms.push(parseAnd(depth));
    }
    return terms.length === 1 ? (terms[0] as PermissionQuery) : { kind: "or", terms };
  };
  const parseAnd = (depth: number): PermissionQuery => {
    const terms = [parsePrimary(depth)];
    while (peek()?.type === "and") {
      next += 1;
      terms.push(parsePrimary(depth));
    }
    return terms.length === 1 ? (terms[0] as PermissionQuery) : { kind: "and", terms };
  };
  const parsePrimary = (depth: number): PermissionQuery => {
    const token = peek();
    if (token?.type === "name") {
      next += 1;
      return { kind: "permission", name: token.text };
    }
    if (token?.type === "(") {
      if (depth >= MAX_DEPTH) throw new SyntaxFault(`nested deeper than ${MAX_DEPTH} parentheses`, token.position);
      next += 1;
      const inner = parseOr(depth + 1);
      const closing = peek();
      if (closing?.type !== ")")
        throw new SyntaxFault(`expected ")" but found ${describe(closing)}`, closing?.position ?? end);
      next += 1;
      return inner;
    }
    throw new SyntaxFault(`expected a permission or "(" but found ${describe(token)}`, token?.position ?? end);
  };

  try {
    const query = parseOr(0);
    const rest = peek();
    if (rest)
      throw new SyntaxFault(`expected AND, OR or the end of the query but found ${describe(rest)}`, rest.position);
    return { kind: "query", query };
  } catch (error) {
    if (!(error instanceof SyntaxFault)) throw error;
    return { kind: "error", error: { message: error.message, position: error.position } };
  }
}

/** Whether the query holds for someone who holds exactly the permissions `holds` accepts. */
export function satisfies(query: PermissionQuery, holds: (permission: string) => boolean): boolean {
  switch (query.kind) {
    case "permission":
      return holds(query.name);
    case "and":
      return query.terms.every((term) => satisfies(term, holds));
    case "or":
      return query.terms.some((term) => satisfies(term, holds));
  }
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  for (const match of text.matchAll(/\(|\)|[^\s()]+/g)) {
    const word = match[0];
    const keyword = word.toLowerCase();
    const type = word === "(" || word === ")" ? word : keyword === "and" || keyword === "or" ? keyword : "name";
    tokens.push({ text: word, position: (match.index ?? 0) + 1, type });
  }
  return tokens;
}
