import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type PermissionQuery, parsePermissionQuery, satisfies } from "../../src/auth/permission-query.js";

/** Seeded, so a failure reproduces; FC_SEED picks another. */
const seed = Number(process.env.FC_SEED ?? 20261203);

const permission = fc.stringMatching(/^[a-z][a-z0-9_.:*-]{0,20}$/).filter((name) => !/^(and|or)$/i.test(name));
const query: fc.Arbitrary<PermissionQuery> = fc.letrec<{ query: PermissionQuery }>((tie) => ({
  query: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    permission.map((name) => ({ kind: "permission" as const, name })),
    fc
      .tuple(fc.constantFrom("and" as const, "or" as const), fc.array(tie("query"), { minLength: 2, maxLength: 4 }))
      .map(([kind, terms]) => ({ kind, terms })),
  ),
})).query;

/** The query as text, every group in parentheses (so that precedence cannot change its meaning). */
function print(node: PermissionQuery): string {
  if (node.kind === "permission") return node.name;
  return `(${node.terms.map(print).join(node.kind === "and" ? " AND " : " oR ")})`;
}

describe("issue 9: permission queries (properties)", () => {
  it("a printed query parses back to one that holds exactly when the original holds", () => {
    fc.assert(
      fc.property(query, fc.array(permission, { maxLength: 6 }), (original, held) => {
        const parsed = parsePermissionQuery(print(original));
        if (parsed.kind !== "query") return print(original).split("(").length - 1 > 32; // too deep is refused
        const holds = (name: string) => held.includes(name);
        return satisfies(parsed.query, holds) === satisfies(original, holds);
      }),
      { seed, numRuns: 1_000 },
    );
  });

  it("any text parses to a query or to an error inside the text, and never throws", () => {
    const text = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc
        .array(fc.constantFrom("(", ")", "a", "b.c", "AND", "or", " ", "x*"), { maxLength: 60 })
        .map((parts) => parts.join(" ")),
      fc.nat({ max: 5_000 }).map((depth) => `${"(".repeat(depth)}a${")".repeat(depth)}`),
    );
    fc.assert(
      fc.property(text, (input) => {
        const parsed = parsePermissionQuery(input);
        if (parsed.kind === "error") {
          expect(parsed.error.position).toBeGreaterThanOrEqual(1);
          expect(parsed.error.position).toBeLessThanOrEqual(input.length + 1);
        }
      }),
      { seed, numRuns: 2_000 },
    );
  });
});
