import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SETTING_NAMES } from "../../src/composition/config.js";

describe("README's configuration table", () => {
  it("names every setting Keyward reads, and none it does not", () => {
    const readme = readFileSync(join(import.meta.dirname, "../..", "README.md"), "utf8");
    const table = readme.slice(readme.indexOf("## Configuration"), readme.indexOf("## How it is built"));
    const rows = [...table.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((match) => match[1]);
    expect([...rows].sort()).toEqual([...SETTING_NAMES, "NODE_ENV"].sort());
  });
});
