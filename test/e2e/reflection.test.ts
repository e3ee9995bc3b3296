import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Authorization } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { RateLimitService } from "../../gen/envoy/service/ratelimit/v3/rls_pb.js";
import { AuditService } from "../../gen/keyward/v1/audit_service_pb.js";
import { KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { KeyspaceService } from "../../gen/keyward/v1/keyspace_service_pb.js";
import { startTestKeyward, type TestKeyward } from "../support/keyward.js";
import { projectRoot } from "../support/process.js";

let keyward: TestKeyward;
beforeAll(async () => {
  keyward = await startTestKeyward();
});
afterAll(async () => {
  await keyward.stop();
});

/** buf curl against the gRPC port, taking the schema from server reflection only; asynchronous, as the server runs in this process. */
async function bufCurl(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(
    "npx",
    ["buf", "curl", "--protocol", "grpc", "--http2-prior-knowledge", ...args],
    { cwd: projectRoot, encoding: "utf8", timeout: 30_000 },
  );
  return stdout;
}

const everyMethod = [KeyService, KeyspaceService, AuditService, Authorization, RateLimitService]
  .flatMap((service) => service.methods.map((method) => `${service.typeName}/${method.name}`))
  .sort();

describe.each(["grpc-v1", "grpc-v1alpha"])("server reflection (%s)", (protocol) => {
  it("lists every method of every service", async () => {
    const listed = (
      await bufCurl("--reflect-protocol", protocol, "--list-methods", `http://127.0.0.1:${keyward.grpcPort}`)
    )
      .trim()
      .split("\n");
    expect(listed).toEqual(expect.arrayContaining(everyMethod));
  });

  it("describes requests well enough to call a method from JSON", async () => {
    const answer = await bufCurl(
      "--reflect-protocol",
      protocol,
      "-H",
      `authorization: Bearer ${keyward.rootKey}`,
      "-d",
      '{"key": "kw_not_a_real_key"}',
      `http://127.0.0.1:${keyward.grpcPort}/keyward.v1.KeyService/VerifyKey`,
    );
    expect(JSON.parse(answer)).toMatchObject({ code: "VERIFY_CODE_NOT_FOUND" });
  });
});
