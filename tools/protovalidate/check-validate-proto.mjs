#!/usr/bin/env node
// Proves that proto/buf/validate/validate.proto is exact: compiles it with buf
// and compares the result with the descriptor embedded in
// @bufbuild/protovalidate, which is what our validator runs against at runtime.
// Exits non-zero with a list of differences otherwise.
//
//   node tools/protovalidate/check-validate-proto.mjs     (BUF=/path/to/buf to override)
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRegistry, equals, fromBinary, toBinary, toJson } from "@bufbuild/protobuf";
import {
  FileDescriptorProtoSchema,
  FileDescriptorSetSchema,
  file_google_protobuf_descriptor,
} from "@bufbuild/protobuf/wkt";
import { file_buf_validate_validate } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const buf = process.env.BUF ?? join(root, "node_modules/.bin/buf");
const source = join(root, "proto/buf/validate/validate.proto");
// Lets equals() decode and compare the custom options (e.g. the CEL rules in
// buf.validate.predefined) instead of skipping them as unknown fields.
const registry = createRegistry(file_google_protobuf_descriptor, file_buf_validate_validate);

function fail(message) {
  console.error(`check-validate-proto: ${message}`);
  process.exit(1);
}

// Build a copy in a scratch module, so that the project's buf.yaml (lint
// settings, dependencies) plays no part.
function build() {
  const dir = mkdtempSync(join(tmpdir(), "validate-proto-"));
  let res;
  try {
    mkdirSync(join(dir, "buf/validate"), { recursive: true });
    copyFileSync(source, join(dir, "buf/validate/validate.proto"));
    const args = ["build", dir, "--exclude-imports", "--exclude-source-info", "--as-file-descriptor-set", "-o", "-"];
    res = spawnSync(buf, args, { maxBuffer: 64 << 20 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (res.error) fail(`cannot run ${buf}: ${res.error.message}`);
  // Report locations against our file, not the scratch copy.
  const stderr = res.stderr.toString().trim().replaceAll(dir, join(root, "proto"));
  if (res.status !== 0 || stderr) fail(`buf build ${res.status === 0 ? "warned" : "failed"}:\n${stderr}`);
  const set = fromBinary(FileDescriptorSetSchema, res.stdout);
  if (set.file.length !== 1) fail(`expected 1 file from buf build, got ${set.file.length}`);
  return set.file[0];
}

// Paths where two JSON values differ, for a readable failure message.
function diff(a, b, path = "", out = []) {
  if (typeof a === "object" && typeof b === "object" && a && b) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)]))
      diff(a[k], b[k], `${path}${Array.isArray(a) ? `[${k}]` : `.${k}`}`, out);
  } else if (JSON.stringify(a) !== JSON.stringify(b)) {
    out.push(`  ${path || "(root)"}:\n    embedded: ${JSON.stringify(a)}\n    built:    ${JSON.stringify(b)}`);
  }
  return out;
}

const built = build();
const embedded = file_buf_validate_validate.proto;
// Nothing needs clearing: source info is left out at build time (the embedded
// copy has none), buf sets json_name on every field, and protobuf-es restores
// the default json_name (and the import list) that the embedded bytes omit.
if (
  !equals(FileDescriptorProtoSchema, embedded, built, {
    registry,
    extensions: true,
    unknown: true,
  })
) {
  const json = (d) => toJson(FileDescriptorProtoSchema, d, { registry });
  const found = diff(json(embedded), json(built));
  if (found.length === 0) found.push("  (no difference visible in JSON; compare the binary forms)");
  const more = found.length > 20 ? `\n  ... ${found.length - 20} more` : "";
  fail(`${source} does not match the embedded descriptor:\n${found.slice(0, 20).join("\n")}${more}`);
}
const bytes = (d) => Buffer.from(toBinary(FileDescriptorProtoSchema, d));
const identical = bytes(embedded).equals(bytes(built));
console.log(
  `check-validate-proto: OK, ${source} compiles to the embedded descriptor (${identical ? "byte-identical" : "equal, serialized differently"})`,
);
