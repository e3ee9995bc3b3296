import {
  create,
  type DescField,
  type DescMessage,
  type DescMethod,
  type DescMethodUnary,
  getOption,
  toBinary,
} from "@bufbuild/protobuf";
import { createValidator } from "@bufbuild/protovalidate";
import { field as fieldRules } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { AuditService } from "../../gen/keyward/v1/audit_service_pb.js";
import { CreateKeyRequestSchema, KeyService, UpdateKeyRequestSchema } from "../../gen/keyward/v1/key_service_pb.js";
import {
  CreateKeyspaceRequestSchema,
  KeyspaceService,
  UpdateKeyspaceRequestSchema,
} from "../../gen/keyward/v1/keyspace_service_pb.js";
import type { Call } from "../../src/chain/call.js";
import { createValidation } from "../../src/chain/validation.js";
import { largestValidRequests, longKeyspaceId } from "../support/largest-requests.js";

const services = [KeyService, KeyspaceService, AuditService];
const requestMessages = services.flatMap((service) => service.methods.map((method) => method.input));

/** Every message a request can carry, the requests included; well-known types are checked where they are used. */
function reachable(roots: readonly DescMessage[]): DescMessage[] {
  const seen = new Set<DescMessage>();
  const visit = (message: DescMessage) => {
    if (seen.has(message) || message.typeName.startsWith("google.protobuf.")) return;
    seen.add(message);
    for (const field of message.fields) {
      if (field.message) visit(field.message);
    }
  };
  roots.forEach(visit);
  return [...seen];
}

/** A pattern bounds the length when it repeats nothing without limit. */
const boundedPattern = (pattern: string) => pattern !== "" && !/[*+]|,\}/.test(pattern);

/** Why the field is unbounded, or undefined when it has its bounds. */
function missingBound(field: DescField): string | undefined {
  const rules = getOption(field, fieldRules);
  const type = rules.type;
  if (field.fieldKind === "list") {
    if (type.case !== "repeated" || type.value.maxItems === undefined) return "repeated without max_items";
    const items = type.value.items?.type;
    if (field.listKind === "scalar" && field.scalar === 9) {
      if (items?.case !== "string") return "strings without rules";
      const { maxLen, maxBytes, pattern } = items.value;
      if (maxLen === undefined && maxBytes === undefined && !boundedPattern(pattern ?? ""))
        return "items without max_len";
    }
    return undefined;
  }
  if (field.fieldKind === "map") return type.case === "map" && type.value.maxPairs !== undefined ? undefined : "map";
  if (field.fieldKind === "scalar" && field.scalar === 9) {
    if (type.case !== "string") return "string without rules";
    const { maxLen, maxBytes, pattern } = type.value;
    return maxLen === undefined && maxBytes === undefined && !boundedPattern(pattern ?? "") ? "no max_len" : undefined;
  }
  if (field.message?.typeName === "google.protobuf.FieldMask") {
    // Each path must be one of a list; how many there may be, a CEL rule says.
    const bounded =
      type.case === "fieldMask" && type.value.in.length > 0 && rules.cel.some((rule) => rule.id.endsWith("max_paths"));
    return bounded ? undefined : "field mask without `in` and a max_paths rule";
  }
  return undefined;
}

describe("issue 9 item 11h: every request field has bounds", () => {
  it("issue 9 item 11h: every string and repeated field of every request message (and what it carries) has max_len / max_items", () => {
    const unbounded = reachable(requestMessages).flatMap((message) =>
      message.fields.flatMap((field) => {
        const why = missingBound(field);
        return why ? [`${message.typeName}.${field.name}: ${why}`] : [];
      }),
    );
    expect(unbounded).toEqual([]);
  });
});

describe("issue 9 item 11h: the largest valid request of each method", () => {
  const validator = createValidator();
  const requests = largestValidRequests({
    keyId: "key_01JD7Z4V0S8F3QJ4M2W6XK9P5R",
    keyspaceId: longKeyspaceId("largest"),
    wide: true,
  });

  it("covers every method", () => {
    const methods = new Set<DescMethod>(requests.map(({ method }) => method));
    expect(services.flatMap((service) => service.methods).filter((method) => !methods.has(method))).toEqual([]);
  });

  it.each(requests.map(({ method, request }) => [method.name, method, request] as const))(
    "issue 9 item 11h: %s validates, quickly",
    (_, method, init) => {
      const request = create(method.input, init as never);
      // The first validation of a message type compiles its rules; time the second.
      validator.validate(method.input, request);
      const started = performance.now();
      const result = validator.validate(method.input, request);
      const ms = performance.now() - started;
      expect(result.kind === "valid" ? "valid" : result.error?.message).toBe("valid");
      // ~0.2 s for the largest (CreateKeyspace) on an idle machine; generous, for a busy CI one.
      expect(ms).toBeLessThan(3_000);
      expect(toBinary(method.input, request).length).toBeGreaterThan(0);
    },
  );
});

describe("issue 9 item 11h: far past a bound, validation answers a violation, not an error", () => {
  const validation = createValidation();
  const many = <T>(make: (i: number) => T) => Array.from({ length: 100_000 }, (_, i) => make(i));
  const ratelimit = (i: number) => ({ name: `l${i}`, limit: 1n, duration: { seconds: 1n } });

  it.each([
    [
      "CreateKeyspace roles",
      CreateKeyspaceRequestSchema,
      { name: "n", roles: many((i) => ({ name: `r${i}` })) },
      "roles",
    ],
    [
      "CreateKeyspace key_defaults.ratelimits",
      CreateKeyspaceRequestSchema,
      { name: "n", keyDefaults: { ratelimits: many(ratelimit) } },
      "key_defaults.ratelimits",
    ],
    [
      "UpdateKeyspace roles",
      UpdateKeyspaceRequestSchema,
      { keyspaceId: "a", updateMask: { paths: ["roles"] }, roles: many((i) => ({ name: `r${i}` })) },
      "roles",
    ],
    ["CreateKey ratelimits", CreateKeyRequestSchema, { name: "n", ratelimits: many(ratelimit) }, "ratelimits"],
    [
      "UpdateKey ratelimits",
      UpdateKeyRequestSchema,
      { keyId: "key_01JD7Z4V0S8F3QJ4M2W6XK9P5R", updateMask: { paths: ["ratelimits"] }, ratelimits: many(ratelimit) },
      "ratelimits",
    ],
    [
      "UpdateKey update_mask",
      UpdateKeyRequestSchema,
      { keyId: "key_01JD7Z4V0S8F3QJ4M2W6XK9P5R", updateMask: { paths: many(() => "name") }, name: "n" },
      "update_mask",
    ],
  ] as const)("issue 9 item 11h: 100,000 entries in %s, at once", async (_, schema, init, field) => {
    const method = methodTaking(schema);
    const validate = validation(() => Promise.resolve({}), method);
    const request = create(schema as DescMessage, init as never);
    // Compiles the rules of the message type, so that the time below is the request's alone.
    await validate(create(schema as DescMessage), {} as Call).catch(() => {});
    const started = performance.now();
    const error = ConnectError.from(await validate(request, {} as Call).catch((e: unknown) => e));
    // Checking every item took seconds (and, for the uniqueness rules, overflowed the stack).
    expect(performance.now() - started).toBeLessThan(500);
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage.startsWith(`${field}: `), error.rawMessage).toBe(true);
  });

  it("issue 9 item 11h: a uniqueness rule holds up past its bound even when every item is checked", () => {
    const request = create(CreateKeyspaceRequestSchema, { name: "n", roles: many((i) => ({ name: `r${i}` })) });
    const result = createValidator().validate(CreateKeyspaceRequestSchema, request);
    expect(result.kind === "invalid" ? result.error.message : result.kind).toMatch(/^roles: /);
  });
});

function methodTaking(schema: DescMessage): DescMethodUnary {
  const method = services.flatMap((service) => service.methods).find((candidate) => candidate.input === schema);
  if (method?.methodKind !== "unary") throw new Error(`no method takes ${schema.typeName}`);
  return method as DescMethodUnary;
}
