import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KeywardProcess, projectRoot, startKeywardProcess } from "../support/process.js";

/** The shell block that follows `<!-- example: name -->` in the README. */
function readmeExample(name: string): string {
  const readme = readFileSync(join(projectRoot, "README.md"), "utf8");
  const match = readme.match(new RegExp(`<!-- example: ${name} -->\\n\`\`\`sh\\n([\\s\\S]*?)\`\`\``));
  if (!match?.[1]) throw new Error(`README has no example named ${name}`);
  return match[1];
}

let keyward: KeywardProcess;
let rootKey: string;

/**
 * Runs a README block against the started server, as a reader would: the
 * default ports swapped for the test's own, the banner's root key in place of
 * the placeholder and in KEYWARD_ROOT_KEY. Answers stdout and stderr.
 */
function runExample(name: string): { stdout: string; stderr: string } {
  const script = readmeExample(name)
    .replaceAll("localhost:50051", `127.0.0.1:${keyward.grpcPort}`)
    .replaceAll("localhost:8080", `127.0.0.1:${keyward.httpPort}`)
    .replaceAll("kw_root_...", rootKey);
  const result = spawnSync("bash", ["-euo", "pipefail", "-c", script], {
    cwd: projectRoot,
    encoding: "utf8",
    env: { ...process.env, KEYWARD_ROOT_KEY: rootKey },
  });
  if (result.status !== 0) throw new Error(`example ${name} failed:\n${result.stdout}\n${result.stderr}`);
  return { stdout: result.stdout, stderr: result.stderr };
}

beforeAll(async () => {
  // Started as the README says: no KEYWARD_ROOT_KEY, so dev mode makes one and prints it.
  keyward = await startKeywardProcess("npm", ["start"], { KEYWARD_ROOT_KEY: "" });
  const printed = keyward.output().match(/Root key for management calls \(shown only now\):[\s#]*(kw_root_\w+)/);
  if (!printed?.[1]) throw new Error(`no root key in the banner:\n${keyward.output()}`);
  rootKey = printed[1];
}, 120_000);
afterAll(async () => {
  await keyward?.signal("SIGTERM");
});

/** The codes that the example's VerifyKey calls answered, in order. */
const verifyCodes = (output: string) => [...output.matchAll(/"code":\s*"(VERIFY_CODE_\w+)"/g)].map((match) => match[1]);

describe("the README's examples, against npm start", () => {
  it("prints the dev mode banner", () => {
    expect(keyward.output()).toContain("KEYWARD IS RUNNING IN DEV MODE");
    expect(keyward.output()).toContain("NOTHING IS PERSISTED");
  });

  it("create → verify → revoke → verify with buf curl on the gRPC port", () => {
    const { stdout } = runExample("buf-curl-grpc-port");
    expect(stdout).toMatch(/"key": "sk_live_/);
    expect(verifyCodes(stdout)).toEqual(["VERIFY_CODE_VALID", "VERIFY_CODE_REVOKED"]);
  });

  it("create → verify → revoke → verify on the HTTP port with buf curl and curl", () => {
    expect(verifyCodes(runExample("http-port").stdout)).toEqual([
      "VERIFY_CODE_VALID",
      "VERIFY_CODE_REVOKED",
      "VERIFY_CODE_REVOKED",
    ]);
  });

  it("a scoped root key: keyspace, roles, a permission query, a refusal and the audit log", () => {
    const { stdout, stderr } = runExample("scoped-root-key");
    expect(verifyCodes(stdout)).toEqual(["VERIFY_CODE_VALID", "VERIFY_CODE_INSUFFICIENT_PERMISSIONS"]);
    expect(stderr).toContain('"code": "permission_denied"');
    expect(stdout).toMatch(/"action": "CreateKey"[\s\S]*"keyspaceId": "billing"/);
  });

  it("rate limits and credits", () => {
    const { stdout } = runExample("limits-and-credits");
    expect(verifyCodes(stdout)).toEqual(["VERIFY_CODE_VALID", "VERIFY_CODE_VALID", "VERIFY_CODE_RATE_LIMITED"]);
    expect(stdout).toContain('"remaining":"3"');
    expect(stdout).toContain('"exceeded":true');
    expect(stdout).toMatch(/"remaining": "13"/);
  });

  it("the grpcurl examples", ({ skip }) => {
    const grpcurl = spawnSync("grpcurl", ["-version"]);
    skip(
      grpcurl.error !== undefined,
      "grpcurl is not installed (no npm or Debian package ships it here); the same calls ran through buf curl",
    );
    const output = runExample("grpcurl").stdout;
    expect(output).toContain("keyward.v1.KeyService");
    expect(verifyCodes(output)).toEqual(["VERIFY_CODE_VALID", "VERIFY_CODE_REVOKED"]);
    expect(output).toContain('"status": "SERVING"');
  });
});
