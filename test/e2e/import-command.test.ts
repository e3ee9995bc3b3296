import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VerifyCode } from "../../gen/keyward/v1/key_pb.js";
import { KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { KeyspaceService } from "../../gen/keyward/v1/keyspace_service_pb.js";
import { connectRoute, type RouteClient } from "../support/clients.js";
import { startTestKeyward, type TestKeyward } from "../support/keyward.js";

const vendorKey = () => `sk_live_${randomBytes(24).toString("hex")}`;
const sha256 = (key: string, encoding: "hex" | "base64") => createHash("sha256").update(key).digest(encoding);

let keyward: TestKeyward;
let admin: RouteClient;
const scratch = mkdtempSync(join(tmpdir(), "keyward-import-"));
beforeAll(async () => {
  keyward = await startTestKeyward();
  admin = connectRoute("grpc-js → gRPC port", keyward);
  await admin.call(KeyspaceService.method.createKeyspace, {
    keyspaceId: "legacy",
    name: "legacy",
    keyDefaults: { importedPrefixes: ["sk_live"] },
  });
});
afterAll(async () => {
  admin?.close();
  await keyward?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** Runs the built command (`npm run import` runs the same file) and answers its exit code and output. */
function runImport(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      "node",
      ["dist/src/cli/import-keys.js", ...args],
      { env: { ...process.env, KEYWARD_IMPORT_ROOT_KEY: keyward.rootKey } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

describe("npm run import", () => {
  it("imports plaintext, hex and base64 rows from a CSV, lists the bad rows, and the imported keys verify", async () => {
    const [plain, hex, base64, dup] = [vendorKey(), vendorKey(), vendorKey(), vendorKey()];
    const csv = [
      "name,key,sha256,start,owner_id,meta",
      `plain,${plain},,,alice,"{""plan"": ""pro""}"`,
      `hex,,${sha256(hex, "hex")},sk_live_abcd,bob,`,
      `base64,,${sha256(base64, "base64")},,carol,`,
      `both,${vendorKey()},${sha256(vendorKey(), "hex")},,,`,
      `bad meta,${vendorKey()},,,,{not json`,
      `short hash,,abcdef,,,`,
      `first,${dup},,,,`,
      `again,${dup},,,,`,
    ].join("\n");
    const file = join(scratch, "export.csv");
    writeFileSync(file, csv);
    const { code, stdout } = await runImport([
      "--file",
      file,
      "--keyspace",
      "legacy",
      "--prefix",
      "sk_live",
      "--url",
      `http://127.0.0.1:${keyward.grpcPort}`,
      "--batch",
      "3",
    ]);
    expect(stdout).toContain("imported 4 of 8 rows; 4 failed");
    expect(code).toBe(2);
    const failures = readFileSync(`${file}.failures.csv`, "utf8").trim().split("\n");
    expect(failures.map((line) => line.split(",").slice(0, 2).join(","))).toEqual([
      "row,code",
      "4,INVALID_ARGUMENT",
      "5,INVALID_ARGUMENT",
      "6,INVALID_ARGUMENT",
      "8,ALREADY_EXISTS",
    ]);
    // No secret of any row is written out.
    expect(readFileSync(`${file}.failures.csv`, "utf8")).not.toContain("sk_live_");
    for (const key of [plain, hex, base64, dup]) {
      expect((await admin.call(KeyService.method.verifyKey, { key })).code).toBe(VerifyCode.VALID);
    }
    const { keys } = await admin.call(KeyService.method.listKeys, { keyspaceId: "legacy" });
    expect(keys.map((key) => [key.name, key.ownerId, key.start])).toEqual([
      ["plain", "alice", plain.slice(0, 12)],
      ["hex", "bob", "sk_live_abcd"],
      ["base64", "carol", "sk_live_"],
      ["first", "", dup.slice(0, 12)],
    ]);
  });

  it("stops when Keyward cannot be reached, saying which row to resume from", async () => {
    const file = join(scratch, "one.json");
    writeFileSync(file, JSON.stringify([{ name: "x", key: vendorKey() }]));
    const { code, stderr } = await runImport([
      "--file",
      file,
      "--keyspace",
      "legacy",
      "--prefix",
      "sk_live",
      "--url",
      "http://127.0.0.1:1",
    ]);
    expect(code).toBe(1);
    expect(stderr).toContain("resume with --from-row 1");
  });
});
