import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";

describe("loadConfig", () => {
  it("runs in dev mode on loopback with default ports when nothing is set", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ devMode: true, host: "127.0.0.1", httpPort: 8080, grpcPort: 50051 });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("uses MongoDB and listens on every interface when MONGODB_URI is set", () => {
    const config = loadConfig({ MONGODB_URI: "mongodb://db:27017", REDIS_URL: "redis://cache:6379" });
    expect(config).toMatchObject({ devMode: false, host: "0.0.0.0", mongodbDatabase: "keyward" });
  });

  it("refuses to start in production without MongoDB", () => {
    expect(() => loadConfig({ NODE_ENV: "production" })).toThrow(/MONGODB_URI is required when NODE_ENV=production/);
  });

  it.each([
    ["KEYWARD_GRPC_PORT", "abc"],
    ["KEYWARD_HTTP_PORT", "70000"],
    ["KEYWARD_GRPC_PORT", "-1"],
    ["MONGODB_URI", "postgres://db"],
    ["REDIS_URL", "http://cache"],
    ["KEYWARD_ROOT_KEY", "short"],
    ["KEYWARD_HASH_SECRET", "too-short"],
    ["KEYWARD_LOG_LEVEL", "loud"],
    ["KEYWARD_AUDIT_RETENTION_DAYS", "-3"],
    ["KEYWARD_AUDIT_RETENTION_DAYS", "1.5"],
    ["KEYWARD_AUDIT_REFUSAL_INTERVAL_MS", "50"],
    ["KEYWARD_AUDIT_REFUSAL_INTERVAL_MS", "7200000"],
  ])("names %s when its value is bad, without echoing the value", (variable, value) => {
    let error: unknown;
    try {
      loadConfig({ [variable]: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(variable);
    expect((error as Error).message).not.toContain(value);
  });

  it("keeps audit events a year and sums up refusals before authentication per minute, unless told otherwise", () => {
    expect(loadConfig({}).audit).toEqual({ retentionDays: 365, refusalIntervalMs: 60_000 });
    expect(loadConfig({ KEYWARD_AUDIT_RETENTION_DAYS: "0", KEYWARD_AUDIT_REFUSAL_INTERVAL_MS: "5000" }).audit).toEqual({
      retentionDays: 0,
      refusalIntervalMs: 5_000,
    });
  });
});
