import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../support/process.js";

function start(env: Record<string, string>) {
  return spawnSync("node", ["dist/src/main.js"], {
    cwd: projectRoot,
    env: { ...process.env, ...env },
    encoding: "utf8",
    timeout: 20_000,
  });
}

describe("start-up", () => {
  it("refuses NODE_ENV=production without MONGODB_URI", () => {
    const result = start({ NODE_ENV: "production", MONGODB_URI: "" });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("MONGODB_URI is required when NODE_ENV=production");
  });

  it("stops at a bad setting with a message that names the variable", () => {
    const result = start({ KEYWARD_GRPC_PORT: "not-a-port" });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^keyward: invalid configuration: KEYWARD_GRPC_PORT must be a port number/);
  });

  it("stops with a clear message when MongoDB cannot be reached", () => {
    const result = start({ MONGODB_URI: "mongodb://127.0.0.1:1/", KEYWARD_GRPC_PORT: "0", KEYWARD_HTTP_PORT: "0" });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("keyward: failed to start: MongoDB is unavailable");
  });

  it("reads the rate-limit rules before it touches a store, and stops at a bad file naming the variable", () => {
    const rules = join(mkdtempSync(join(tmpdir(), "keyward-rules-")), "ratelimit.yaml");
    writeFileSync(rules, "domain: edge\ndescriptors:\n  - key: remote_address\n    rate_limit: {unit: fortnight}\n");
    // An unreachable MongoDB would be the first fault if the rules were read after the stores open.
    const unreachable = { MONGODB_URI: "mongodb://127.0.0.1:1/", KEYWARD_GRPC_PORT: "0", KEYWARD_HTTP_PORT: "0" };
    const bad = start({ ...unreachable, KEYWARD_RATELIMIT_CONFIG: rules });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^keyward: KEYWARD_RATELIMIT_CONFIG \(.*ratelimit\.yaml\): /);
    const missing = start({ ...unreachable, KEYWARD_RATELIMIT_CONFIG: `${rules}.gone` });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^keyward: KEYWARD_RATELIMIT_CONFIG \(.*ratelimit\.yaml\.gone\): /);
  });
});
