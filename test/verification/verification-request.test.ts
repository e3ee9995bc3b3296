import { create } from "@bufbuild/protobuf";
import { createValidator } from "@bufbuild/protovalidate";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { VerifyKeyRequestSchema } from "../../gen/keyward/v1/key_service_pb.js";
import { fromOverrides } from "../../src/services/key-mapping.js";
import { readVerificationRequest } from "../../src/verification/verification-request.js";

/** Seeded, so a failure reproduces; FC_SEED picks another. */
const seed = Number(process.env.FC_SEED ?? 20261203);

describe("readVerificationRequest", () => {
  it.each([
    [{ cost: -1 }, "cost"],
    [{ cost: Number.NaN }, "cost"],
    [{ cost: 1.5 }, "cost"],
    [{ cost: 1_000_001 }, "cost"],
    [{ cost: -1_000_000_000_000 }, "cost"],
    [{ key: "" }, "key"],
    [{ key: "k".repeat(513) }, "key"],
    [{ permissionQuery: "a AND" }, "permission_query"],
    [{ permissionQuery: "a".repeat(1001) }, "permission_query"],
    [{ overrides: [{ name: "x", cost: -5 }] }, "ratelimits[0].cost"],
    [{ overrides: [{ name: "x", limit: 0 }] }, "ratelimits[0].limit"],
    [{ overrides: [{ name: "x y" }] }, "ratelimits[0].name"],
    [{ overrides: [{ name: "x", durationMs: 999 }] }, "ratelimits[0].duration"],
    [{ overrides: Array.from({ length: 11 }, () => ({ name: "x" })) }, "ratelimits"],
  ])("issue 9 item 3: refuses %j, naming %s", (change, field) => {
    const read = readVerificationRequest({ key: "kw_abc", permissionQuery: "", overrides: [], ...change });
    expect(read.kind === "invalid" && read.problem.field).toBe(field);
  });

  it("issue 9 item 3: passes what VerifyKey allows, with cost 1 when none is given", () => {
    const read = readVerificationRequest({ key: "kw_abc", permissionQuery: "a OR b", overrides: [] });
    expect(read).toMatchObject({ kind: "valid", request: { key: "kw_abc", cost: 1, query: { kind: "or" } } });
  });

  it("issue 9 item 3: agrees with VerifyKeyRequest's protovalidate rules on any request (property)", () => {
    const validator = createValidator();
    const name = fc.oneof(fc.constantFrom("requests", "a.b-c_1", "", "has space", "x".repeat(65)), fc.string());
    const override = fc.record(
      {
        name,
        cost: fc.integer({ min: 0, max: 2_000_000 }),
        limit: fc.bigInt({ min: -1n, max: 2_000_000_000n }),
        duration: fc.record({
          seconds: fc.bigInt({ min: 0n, max: 3_000_000n }),
          nanos: fc.constantFrom(0, 500_000_000),
        }),
      },
      { requiredKeys: ["name"] },
    );
    const request = fc.record(
      {
        key: fc.oneof(
          fc.string({ maxLength: 20 }),
          fc.string({ minLength: 500, maxLength: 520 }),
          fc.string({ unit: "binary", minLength: 256, maxLength: 520 }),
        ),
        permissionQuery: fc.oneof(
          fc.constantFrom("", "a AND (b OR c)", "a AND"),
          fc.string({ maxLength: 1_010 }),
          fc.string({ unit: "binary", minLength: 990, maxLength: 1_010 }),
        ),
        cost: fc.integer({ min: 0, max: 2_000_000 }),
        ratelimits: fc.array(override, { maxLength: 12 }),
      },
      { requiredKeys: ["key", "permissionQuery", "ratelimits"] },
    );
    fc.assert(
      fc.property(request, (init) => {
        const message = create(VerifyKeyRequestSchema, init);
        const protoValid = validator.validate(VerifyKeyRequestSchema, message).kind === "valid";
        const read = readVerificationRequest({
          key: message.key,
          permissionQuery: message.permissionQuery,
          cost: message.cost,
          overrides: fromOverrides(message.ratelimits),
        });
        // The domain's rules are the proto's, plus a permission query that parses.
        const queryProblem = read.kind === "invalid" && read.problem.field === "permission_query";
        if (protoValid) expect(read.kind === "valid" || queryProblem).toBe(true);
        else expect(read.kind).toBe("invalid");
      }),
      { seed, numRuns: 2_000 },
    );
  });
});
