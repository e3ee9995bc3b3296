import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { type CheckRequest, CheckRequestSchema } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";

const fixtures = join(import.meta.dirname, "../fixtures/envoy");

interface CheckRequestJson {
  attributes: { request: { http: { headers?: Record<string, string> } } };
}

/** The CheckRequests in test/fixtures/envoy. */
export type EnvoyFixture = "check-request-http1" | "check-request-raw-headers";

/** A CheckRequest as Envoy sends it (test/fixtures/envoy), carrying `key`; `change` may edit its headers first. */
export function checkRequest(
  fixture: EnvoyFixture,
  key: string,
  change: (headers: Record<string, string>) => void = () => {},
): CheckRequest {
  const text = readFileSync(join(fixtures, `${fixture}.json`), "utf8")
    .replace("{{KEY}}", key)
    .replace("{{KEY_BASE64}}", Buffer.from(key).toString("base64"));
  const json = JSON.parse(text) as CheckRequestJson;
  change(json.attributes.request.http.headers ?? {});
  return fromJson(CheckRequestSchema, json as unknown as JsonValue);
}
