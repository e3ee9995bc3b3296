import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFileRegistry, fromBinary, type Registry } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

const projectRoot = join(import.meta.dirname, "../..");

/**
 * Envoy's API (envoyproxy/data-plane-api) as the npm package @grpc/grpc-js-xds ships it in deps/,
 * with cncf/xds, googleapis and protoc-gen-validate beside it.
 */
const XDS_DEPS = join(projectRoot, "node_modules/@grpc/grpc-js-xds/deps");

/** The files whose messages envoy.yaml uses (Any payloads included); buf adds what they import. */
const ENVOY_FILES = [
  "envoy/config/bootstrap/v3/bootstrap.proto",
  "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto",
  "envoy/extensions/filters/http/ext_authz/v3/ext_authz.proto",
  "envoy/extensions/filters/http/header_mutation/v3/header_mutation.proto",
  "envoy/extensions/filters/http/ratelimit/v3/rate_limit.proto",
  "envoy/extensions/filters/http/router/v3/router.proto",
  "envoy/extensions/upstreams/http/v3/http_protocol_options.proto",
  "envoy/service/auth/v3/external_auth.proto",
  "envoy/service/ratelimit/v3/rls.proto",
];

/**
 * Compiles Envoy's protos with buf (a dev dependency) into a registry, so that envoy.yaml can be
 * read as an envoy.config.bootstrap.v3.Bootstrap with protobuf-es's strict JSON reader.
 *
 * The protoc-gen-validate copy in deps/ predates the `ignore_empty` rule that Envoy's protos use in
 * their (validate.rules) annotations; a temporary copy gets that field in every *Rules message so
 * that the annotations resolve. The annotations only state rules, which nothing here evaluates.
 */
export function envoyRegistry(): Registry {
  const dir = mkdtempSync(join(tmpdir(), "keyward-envoy-protos-"));
  try {
    for (const module of ["envoy-api", "xds", "googleapis"]) symlinkSync(join(XDS_DEPS, module), join(dir, module));
    const validate = readFileSync(join(XDS_DEPS, "protoc-gen-validate/validate/validate.proto"), "utf8");
    const patched = validate.includes("ignore_empty")
      ? validate
      : validate.replace(/^(message \w+Rules \{)$/gm, "$1\n  optional bool ignore_empty = 999;");
    if (!patched.includes("ignore_empty")) throw new Error("validate.proto has no *Rules messages to patch");
    mkdirSync(join(dir, "protoc-gen-validate/validate"), { recursive: true });
    writeFileSync(join(dir, "protoc-gen-validate/validate/validate.proto"), patched);
    const config = {
      version: "v2",
      modules: [{ path: "envoy-api" }, { path: "xds" }, { path: "googleapis" }, { path: "protoc-gen-validate" }],
    };
    const out = join(dir, "envoy.binpb");
    execFileSync(
      join(projectRoot, "node_modules/.bin/buf"),
      [
        "build",
        ".",
        "--config",
        JSON.stringify(config),
        ...ENVOY_FILES.flatMap((file) => ["--path", `envoy-api/${file}`]),
        "-o",
        out,
      ],
      { cwd: dir, stdio: ["ignore", "ignore", "pipe"], timeout: 30_000 },
    );
    return createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(out)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
