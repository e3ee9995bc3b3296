import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
const buf = join(root, "node_modules/.bin/buf");
const scratch = mkdtempSync(join(tmpdir(), "keyward-gen-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function filesUnder(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name);
      files.set(relative(dir, path), readFileSync(path, "utf8"));
    }
  }
  return files;
}

describe("the proto schema", () => {
  it("passes buf lint (STANDARD)", () => {
    expect(() => execFileSync(buf, ["lint"], { cwd: root, stdio: "pipe" })).not.toThrow();
  });

  it("matches the committed gen/: run `npm run generate` and commit when this fails", () => {
    execFileSync(buf, ["generate", "--output", scratch], { cwd: root, stdio: "pipe" });
    const generated = filesUnder(join(scratch, "gen"));
    const committed = filesUnder(join(root, "gen"));
    expect([...committed.keys()].sort()).toEqual([...generated.keys()].sort());
    for (const [path, text] of generated) expect(committed.get(path), path).toBe(text);
  });

  it("vendors buf/validate/validate.proto exactly as @bufbuild/protovalidate compiled it", () => {
    expect(() =>
      execFileSync("node", [join(root, "tools/protovalidate/check-validate-proto.mjs")], { cwd: root, stdio: "pipe" }),
    ).not.toThrow();
  });
});
