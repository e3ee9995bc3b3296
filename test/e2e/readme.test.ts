import { execFileSync, spawnSync } from "node:child_process";
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

/** Runs a README block against the started server: the default ports swapped for the test's own. */
function runExample(name: string): string {
  const script = readmeExample(name)
    .replaceAll("localhost:50051", `127.0.0.1:${keyward.grpcPort}`)
    .replaceAll("localhost:8080", `127.0.0.1:${keyward.httpPort}`);
  return execFileSync("bash", ["-euo", "pipefail", "-c", script], { cwd: projectRoot, encoding: "utf8" });
}

beforeAll(async () => {
  keyward = await startKeywardProcess("npm", ["start"]);
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
    const output = runExample("buf-curl-grpc-port");
    expect(output).toMatch(/"key": "sk_live_/);
    expect(verifyCodes(output)).toEqual(["VERIFY_CODE_VALID", "VERIFY_CODE_REVOKED"]);
  });

  it("create → verify → revoke → verify on the HTTP port with buf curl and curl", () => {
    expect(verifyCodes(runExample("http-port"))).toEqual(["VERIFY_CODE_VALID", "VERIFY_CODE_REVOKED"]);
  });

  it("the grpcurl examples", ({ skip }) => {
    const grpcurl = spawnSync("grpcurl", ["-version"]);
    skip(
      grpcurl.error !== undefined,
      "grpcurl is not installed (no npm or Debian package ships it here); the same calls ran through buf curl",
    );
    const output = runExample("grpcurl");
    expect(output).toContain("keyward.v1.KeyService");
    expect(verifyCodes(output)).toEqual(["VERIFY_CODE_VALID", "VERIFY_CODE_REVOKED"]);
    expect(output).toContain('"status": "SERVING"');
  });
});
