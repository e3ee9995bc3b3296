import { describe, expect, it } from "vitest";
import { type PermissionQuery, parsePermissionQuery, satisfies } from "../../src/auth/permission-query.js";

function parse(text: string): PermissionQuery {
  const result = parsePermissionQuery(text);
  if (result.kind === "error") throw new Error(`${result.error.message} at ${result.error.position}`);
  return result.query;
}

/** The query in a fully parenthesised form, to compare structure. */
function show(query: PermissionQuery): string {
  if (query.kind === "permission") return query.name;
  return `(${query.terms.map(show).join(query.kind === "and" ? " & " : " | ")})`;
}

const holding =
  (...held: string[]) =>
  (permission: string) =>
    held.includes(permission);

describe("permission query parsing", () => {
  it("reads a single permission", () => {
    expect(parse("documents.read")).toEqual({ kind: "permission", name: "documents.read" });
  });

  it("binds AND tighter than OR", () => {
    expect(show(parse("a OR b AND c"))).toBe("(a | (b & c))");
    expect(show(parse("a AND b OR c AND d"))).toBe("((a & b) | (c & d))");
  });

  it("groups with parentheses, nested", () => {
    expect(show(parse("documents.read AND (documents.write OR admin)"))).toBe(
      "(documents.read & (documents.write | admin))",
    );
    expect(show(parse("((a OR b) AND (c OR (d AND e)))"))).toBe("((a | b) & (c | (d & e)))");
  });

  it("flattens chains of one operator", () => {
    expect(show(parse("a AND b AND c"))).toBe("(a & b & c)");
  });

  it("ignores whitespace of any kind and amount, and reads keywords in any case", () => {
    expect(show(parse("  a\tand\n(b   or c)  "))).toBe("(a & (b | c))");
    expect(show(parse("(a)AND(b)"))).toBe("(a & b)");
  });

  it.each([
    ["", 'expected a permission or "(" but found the end of the query', 1],
    ["   ", 'expected a permission or "(" but found the end of the query', 4],
    ["a AND", 'expected a permission or "(" but found the end of the query', 6],
    ["AND a", 'expected a permission or "(" but found "AND"', 1],
    ["a OR OR b", 'expected a permission or "(" but found "OR"', 6],
    ["a b", 'expected AND, OR or the end of the query but found "b"', 3],
    ["(a OR b", 'expected ")" but found the end of the query', 8],
    ["a OR b)", 'expected AND, OR or the end of the query but found ")"', 7],
    ["()", 'expected a permission or "(" but found ")"', 2],
    ["a AND (b OR ) ", 'expected a permission or "(" but found ")"', 13],
  ])("reports %j as malformed: %s at position %i", (text, message, position) => {
    expect(parsePermissionQuery(text)).toEqual({ kind: "error", error: { message, position } });
  });

  it("refuses nesting deeper than 32 parentheses instead of overflowing the stack", () => {
    const deep = `${"(".repeat(40)}a${")".repeat(40)}`;
    const result = parsePermissionQuery(deep);
    expect(result.kind).toBe("error");
    expect(result.kind === "error" && result.error).toEqual({
      message: "nested deeper than 32 parentheses",
      position: 33,
    });
    expect(parsePermissionQuery(`${"(".repeat(32)}a${")".repeat(32)}`).kind).toBe("query");
  });
});

describe("permission query evaluation", () => {
  const query = parse("documents.read AND (documents.write OR admin)");

  it.each([
    [["documents.read", "documents.write"], true],
    [["documents.read", "admin"], true],
    [["documents.read"], false],
    [["documents.write", "admin"], false],
    [[], false],
  ])("holding %j → %s", (held, expected) => {
    expect(satisfies(query, holding(...held))).toBe(expected);
  });
});
