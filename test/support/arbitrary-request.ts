import { type DescField, type DescMessage, ScalarType } from "@bufbuild/protobuf";
import fc from "fast-check";

/**
 * Requests of any message, made from its descriptor: values near and past
 * the bounds the protos set (empty and overlong strings, odd characters,
 * lists over their max_items, numbers at their edges), so that a property
 * test meets most of a method's rules. Nested messages go two levels deep;
 * well-known types get values of their own.
 */
export function arbitraryRequest(schema: DescMessage, depth = 0): fc.Arbitrary<Record<string, unknown>> {
  const fields = schema.fields.filter((field) => !field.oneof);
  const entries = fields.map((field) => [field.localName, fieldValue(field, depth)] as const);
  const oneofs = schema.oneofs.map((oneof) =>
    fc.oneof(
      fc.constant(undefined),
      ...oneof.fields.map((field) => singular(field, depth).map((value) => ({ case: field.localName, value }))),
    ),
  );
  return fc
    .tuple(fc.record(Object.fromEntries(entries), { requiredKeys: [] }), fc.tuple(...oneofs))
    .map(([record, cases]) => {
      const request: Record<string, unknown> = { ...record };
      schema.oneofs.forEach((oneof, i) => {
        if (cases[i] !== undefined) request[oneof.localName] = cases[i];
      });
      return request;
    });
}

function fieldValue(field: DescField, depth: number): fc.Arbitrary<unknown> {
  if (field.fieldKind === "list") return fc.array(singular(field, depth), { maxLength: depth === 0 ? 12 : 3 });
  if (field.fieldKind === "map") return fc.constant({});
  return singular(field, depth);
}

function singular(field: DescField, depth: number): fc.Arbitrary<unknown> {
  if (field.fieldKind === "enum" || (field.fieldKind === "list" && field.listKind === "enum")) {
    return fc.integer({ min: -1, max: 4 });
  }
  const message = field.message;
  if (message) return messageValue(message, depth);
  const scalar = "scalar" in field ? field.scalar : undefined;
  return scalar === undefined ? fc.constant(undefined) : scalarValue(scalar);
}

function messageValue(message: DescMessage, depth: number): fc.Arbitrary<unknown> {
  switch (message.typeName) {
    case "google.protobuf.Timestamp":
      return fc.record({ seconds: fc.bigInt({ min: 0n, max: 4_000_000_000n }), nanos: fc.constant(0) });
    case "google.protobuf.Duration":
      return fc.record({ seconds: fc.bigInt({ min: -10n, max: 3_000_000n }), nanos: fc.constant(0) });
    case "google.protobuf.FieldMask":
      return fc.record({
        paths: fc.array(
          fc.constantFrom("name", "enabled", "permissions", "permissions.0", "refill.amount", "", "x y"),
          {
            maxLength: 4,
          },
        ),
      });
    case "google.protobuf.Struct":
      return fc.constant(undefined);
    default:
      return depth >= 2 ? fc.constant(undefined) : arbitraryRequest(message, depth + 1);
  }
}

/** Strings that the protos' patterns and lengths meet: ids, names, odd characters, the very long. */
const text = fc.oneof(
  fc.constantFrom("", " ", "default", "root", "billing", "key_01ARZ3NDEKTSV4RRFFQ69G5FAV", "kw_abc", "a.b.c", "x y"),
  fc.string({ maxLength: 12 }),
  fc.string({ minLength: 60, maxLength: 70 }),
  fc.string({ minLength: 250, maxLength: 260 }),
  fc.string({ minLength: 500, maxLength: 1_100 }),
);

function scalarValue(scalar: ScalarType): fc.Arbitrary<unknown> {
  switch (scalar) {
    case ScalarType.STRING:
      return text;
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.BYTES:
      return fc.uint8Array({ maxLength: 8 });
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return fc.constantFrom(-1n, 0n, 1n, 1_000_000_000_000n, 1_000_000_000_001n, 9_000_000_000_000_000_000n);
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return fc.constantFrom(0n, 1n, 1_000_000_000n, 18_000_000_000_000_000_000n);
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return fc.constantFrom(0, 1, 15, 16, 255, 256, 1_000, 1_001, 1_000_000, 1_000_001, 4_294_967_295);
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return fc.double();
    default:
      return fc.integer({ min: -2_147_483_648, max: 2_147_483_647 });
  }
}
