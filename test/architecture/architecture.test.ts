import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
const config = join(root, ".dependency-cruiser.cjs");

/** Runs dependency-cruiser with the project's rules; answers its exit status and what it printed. */
function cruise(cwd: string): { status: number; output: string } {
  try {
    const output = execFileSync(join(root, "node_modules/.bin/depcruise"), ["src", "--config", config], {
      cwd,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    return { status: 0, output };
  } catch (error) {
    const failed = error as { status: number; stdout: string };
    return { status: failed.status, output: failed.stdout };
  }
}

describe("issue 10: the architecture rules (.dependency-cruiser.cjs, run by npm run lint)", () => {
  it("hold for src/: no folder or module cycle, a pure domain, ports and adapters apart", () => {
    const { status, output } = cruise(root);
    expect(output).toContain("no dependency violations found");
    expect(status).toBe(0);
  });

  it("catch a cycle between folders even when no module cycle exists (a fixture: a → b → a)", () => {
    const { status, output } = cruise(join(import.meta.dirname, "fixture-cycle"));
    expect(output).toMatch(/no-folder-cycles: src\/a/);
    expect(output).not.toMatch(/no-module-cycles/);
    expect(status).not.toBe(0);
  });
});
