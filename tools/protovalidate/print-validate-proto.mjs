#!/usr/bin/env node
// Prints buf/validate/validate.proto as .proto source to stdout.
//
// We cannot fetch the original file (no access to the BSR or GitHub here), but
// @bufbuild/protovalidate embeds its compiled FileDescriptorProto, which holds
// everything a compiler needs except comments. This script turns that
// descriptor back into source; check-validate-proto.mjs proves the result
// compiles to the very same descriptor.
//
//   node tools/protovalidate/print-validate-proto.mjs > proto/buf/validate/validate.proto
import { readFileSync } from "node:fs";
import { create, createRegistry, getExtension, isFieldSet, setExtension } from "@bufbuild/protobuf";
import { protoCamelCase } from "@bufbuild/protobuf/reflect";
import { toText } from "@bufbuild/protobuf/txtpb";
import {
  FieldDescriptorProto_LabelSchema,
  FieldDescriptorProto_Type,
  FieldDescriptorProto_TypeSchema,
  FieldDescriptorProtoSchema,
  file_google_protobuf_descriptor,
  StringValueSchema,
} from "@bufbuild/protobuf/wkt";
import { file_buf_validate_validate } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";

const file = file_buf_validate_validate.proto;
// Resolves the custom options (e.g. buf.validate.predefined), which the
// descriptor stores as unknown fields of the *Options messages.
const registry = createRegistry(file_google_protobuf_descriptor, file_buf_validate_validate);
// The package's exports map hides package.json; it sits two levels above dist/esm/index.js.
const entry = import.meta.resolve("@bufbuild/protovalidate");
const pkg = JSON.parse(readFileSync(new URL("../../package.json", entry), "utf8"));

// Editions would need the features machinery; this file does not use them.
if (!["", "proto2", "proto3"].includes(file.syntax)) {
  throw new Error(`unsupported syntax "${file.syntax}"`);
}
const proto3 = file.syntax === "proto3";
const lines = [];
const emit = (depth, line) => lines.push(line === "" ? "" : "  ".repeat(depth) + line);

// A value in protobuf text format. protobuf-es' text writer does the string
// escaping and nested message literals: we print a message that holds only
// this value and drop the leading "name: ". Continuation lines get the
// caller's indentation.
function textValue(schema, msg, depth = 0) {
  const text = toText(schema, msg, { registry }).trimEnd();
  return text.slice(text.indexOf(": ") + 2).replaceAll("\n", `\n${"  ".repeat(depth)}`);
}

const quote = (s) => textValue(StringValueSchema, create(StringValueSchema, { value: s }));

// A repeated option is written as one `name = value` per element.
const items = (f, value) => (f.fieldKind === "list" ? value : [value]);
const one = (f, item) => (f.fieldKind === "list" ? [item] : item);

// [name, value] pairs of an *Options message: regular fields, then extensions.
function options(opts, depth) {
  if (!opts) return [];
  const schema = registry.getMessage(opts.$typeName);
  const out = [];
  for (const f of schema.fields) {
    if (!isFieldSet(opts, f)) continue;
    for (const item of items(f, opts[f.localName])) {
      const msg = create(schema, { [f.localName]: one(f, item) });
      out.push([f.name, textValue(schema, msg, depth)]);
    }
  }
  const exts = new Set(
    (opts.$unknown ?? []).map(({ no }) => {
      const ext = registry.getExtensionFor(schema, no);
      if (!ext) throw new Error(`${schema.typeName} has unknown field ${no}`);
      return ext;
    }),
  );
  for (const ext of exts) {
    for (const item of items(ext, getExtension(opts, ext))) {
      const msg = create(schema);
      setExtension(msg, ext, one(ext, item));
      out.push([`(${ext.typeName})`, textValue(schema, msg, depth)]);
    }
  }
  return out;
}

function optionLines(opts, depth) {
  for (const [n, v] of options(opts, depth)) emit(depth, `option ${n} = ${v};`);
}
const bracket = (pairs) => (pairs.length ? ` [${pairs.map(([n, v]) => `${n} = ${v}`).join(", ")}]` : "");

// Type references are written relative to our package where possible, for readability.
const typeRef = (name) => (name.startsWith(`.${file.package}.`) ? name.slice(file.package.length + 2) : name.slice(1));
// LABEL_REPEATED -> repeated, TYPE_UINT64 -> uint64
const keyword = (enumSchema, value) => enumSchema.value[value].name.replace(/^[A-Z]+_/, "").toLowerCase();

// Ranges: `end` is exclusive for messages and inclusive for enums.
const range = (start, end, max) => (start === end ? `${start}` : `${start} to ${end === max ? "max" : end}`);
const MAX_FIELD = 536870911;
const MAX_ENUM = 2147483647;

function field(f, depth, inOneof) {
  if (f.type === FieldDescriptorProto_Type.GROUP) throw new Error(`group field ${f.name} is not supported`);
  const label = keyword(FieldDescriptorProto_LabelSchema, f.label);
  const type = f.typeName ? typeRef(f.typeName) : keyword(FieldDescriptorProto_TypeSchema, f.type);
  const showLabel = !inOneof && (!proto3 || label === "repeated" || f.proto3Optional);
  const pseudo = [];
  if (isFieldSet(f, FieldDescriptorProtoSchema.field.defaultValue)) {
    // The descriptor keeps strings unescaped, bytes C-escaped, everything else as written.
    const { STRING, BYTES } = FieldDescriptorProto_Type;
    const v = f.defaultValue;
    pseudo.push(["default", f.type === STRING ? quote(v) : f.type === BYTES ? `"${v}"` : v]);
  }
  if (
    !f.extendee &&
    isFieldSet(f, FieldDescriptorProtoSchema.field.jsonName) &&
    f.jsonName !== protoCamelCase(f.name)
  ) {
    pseudo.push(["json_name", quote(f.jsonName)]);
  }
  const opts = bracket([...pseudo, ...options(f.options, depth)]);
  emit(depth, `${showLabel ? `${label} ` : ""}${type} ${f.name} = ${f.number}${opts};`);
}

// Extensions are grouped into one `extend` block per run of equal extendees.
function extensions(exts, depth) {
  for (let i = 0; i < exts.length; ) {
    const extendee = exts[i].extendee;
    emit(depth, `extend ${typeRef(extendee)} {`);
    for (; i < exts.length && exts[i].extendee === extendee; i++) field(exts[i], depth + 1, false);
    emit(depth, "}");
  }
}

function reserved(ranges, names, depth, max, endOffset) {
  if (ranges.length) emit(depth, `reserved ${ranges.map((r) => range(r.start, r.end - endOffset, max)).join(", ")};`);
  if (names.length) emit(depth, `reserved ${names.map((n) => `"${n}"`).join(", ")};`);
}

function enumType(e, depth) {
  emit(depth, `enum ${e.name} {`);
  optionLines(e.options, depth + 1);
  for (const v of e.value) emit(depth + 1, `${v.name} = ${v.number}${bracket(options(v.options, depth + 1))};`);
  reserved(e.reservedRange, e.reservedName, depth + 1, MAX_ENUM, 0);
  emit(depth, "}");
}

function message(m, depth) {
  if (m.options?.mapEntry) throw new Error(`map field ${m.name} is not supported`);
  emit(depth, `message ${m.name} {`);
  optionLines(m.options, depth + 1);
  // Fields of a oneof are contiguous in the descriptor; print each run as one
  // block. (A proto3 `optional` field sits alone in a synthetic oneof.)
  const oneofOf = (f) =>
    isFieldSet(f, FieldDescriptorProtoSchema.field.oneofIndex) && !f.proto3Optional ? f.oneofIndex : undefined;
  const printed = new Set();
  for (let i = 0; i < m.field.length; ) {
    const index = oneofOf(m.field[i]);
    if (index === undefined) {
      field(m.field[i++], depth + 1, false);
      continue;
    }
    if (printed.has(index)) throw new Error(`${m.name}: oneof split up`);
    printed.add(index);
    emit(depth + 1, `oneof ${m.oneofDecl[index].name} {`);
    optionLines(m.oneofDecl[index].options, depth + 2);
    while (i < m.field.length && oneofOf(m.field[i]) === index) {
      field(m.field[i++], depth + 2, true);
    }
    emit(depth + 1, "}");
  }
  for (const n of m.nestedType) message(n, depth + 1);
  for (const e of m.enumType) enumType(e, depth + 1);
  extensions(m.extension, depth + 1);
  for (const r of m.extensionRange) {
    emit(depth + 1, `extensions ${range(r.start, r.end - 1, MAX_FIELD)}${bracket(options(r.options, depth + 1))};`);
  }
  reserved(m.reservedRange, m.reservedName, depth + 1, MAX_FIELD, 1);
  emit(depth, "}");
}

if (file.service.length) throw new Error("services are not supported");

lines.push(
  `// Code generated by tools/protovalidate/print-validate-proto.mjs from the descriptor`,
  `// embedded in ${pkg.name}@${pkg.version}. DO NOT EDIT.`,
  "//",
  "// Original work Copyright Buf Technologies, Inc.",
  "//",
  '// Licensed under the Apache License, Version 2.0 (the "License");',
  "// you may not use this file except in compliance with the License.",
  "// You may obtain a copy of the License in the LICENSE file next to this one, or at",
  "//",
  "//      http://www.apache.org/licenses/LICENSE-2.0",
  "//",
  "// Unless required by applicable law or agreed to in writing, software",
  '// distributed under the License is distributed on an "AS IS" BASIS,',
  "// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.",
  "// See the License for the specific language governing permissions and",
  "// limitations under the License.",
  "//",
  "// The descriptor carries no comments, so the original documentation is not reproduced here.",
  "",
  `syntax = "${file.syntax || "proto2"}";`,
  "",
  `package ${file.package};`,
  "",
);
file.dependency.forEach((dep, i) => {
  const kind = file.publicDependency.includes(i) ? "public " : file.weakDependency.includes(i) ? "weak " : "";
  emit(0, `import ${kind}"${dep}";`);
});
emit(0, "");
optionLines(file.options, 0);
for (const m of file.messageType) {
  emit(0, "");
  message(m, 0);
}
for (const e of file.enumType) {
  emit(0, "");
  enumType(e, 0);
}
if (file.extension.length) emit(0, "");
extensions(file.extension, 0);
// Sections that are absent leave runs of blank lines; collapse them (string
// literals are escaped, so no line break inside one is affected).
process.stdout.write(`${lines.join("\n").replace(/\n{3,}/g, "\n\n")}\n`);
