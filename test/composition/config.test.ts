import { describe, expect, it } from "vitest";
import { generateRootKey } from "../../src/composition/bootstrap.js";
import { ConfigError, loadConfig } from "../../src/composition/config.js";

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

  it("bounds connections by default: 10 s to open, 5 min idle, 1000 streams, 32 MB per session", () => {
    expect(loadConfig({}).connections).toEqual({
      handshakeTimeoutMs: 10_000,
      idleTimeoutMs: 300_000,
      maxConcurrentStreams: 1_000,
      maxSessionMemoryMb: 32,
    });
    const tuned = loadConfig({
      KEYWARD_HANDSHAKE_TIMEOUT_MS: "2000",
      KEYWARD_IDLE_TIMEOUT_MS: "3600000",
      KEYWARD_MAX_CONCURRENT_STREAMS: "5000",
      KEYWARD_MAX_SESSION_MEMORY_MB: "128",
    });
    expect(tuned.connections).toEqual({
      handshakeTimeoutMs: 2_000,
      idleTimeoutMs: 3_600_000,
      maxConcurrentStreams: 5_000,
      maxSessionMemoryMb: 128,
    });
  });

  it.each([
    ["::", "::"],
    ["[::]", "::"],
    ["::1", "::1"],
    ["[::1]", "::1"],
    ["[fe80::1%eth0]", "fe80::1%eth0"],
    ["0.0.0.0", "0.0.0.0"],
    ["10.1.2.3", "10.1.2.3"],
    ["localhost", "localhost"],
    ["keyward.svc.cluster.local", "keyward.svc.cluster.local"],
  ])("issue 9 item 11c: KEYWARD_HOST=%s listens on %s", (value, host) => {
    expect(loadConfig({ KEYWARD_HOST: value }).host).toBe(host);
  });

  it.each([
    "",
    "[::1",
    "::1]",
    "[127.0.0.1]",
    "127.0.0.1:8080",
    "http://keyward",
    "two words",
    "[::1]:50051",
    "-leading.dash",
  ])("issue 9 item 11c: refuses KEYWARD_HOST=%j with a clear message", (value) => {
    expect(() => loadConfig({ KEYWARD_HOST: value })).toThrow(
      /KEYWARD_HOST must be an IP address \(IPv6 with or without brackets\) or a host name/,
    );
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
    ["REDIS_URL", "redis://a:1,http://b:2"],
    ["REDIS_URL", "redis://a:1,rediss://b:2"],
    ["KEYWARD_REDIS_TYPE", "replicated"],
    ["KEYWARD_ROOT_KEY", "short"],
    ["KEYWARD_HASH_SECRET", "too-short"],
    ["KEYWARD_REDIS_SECRET", "too-short"],
    ["KEYWARD_REDIS_SECRET_PREVIOUS", "too-short"],
    ["KEYWARD_LOG_LEVEL", "loud"],
    ["KEYWARD_AUDIT_RETENTION_DAYS", "-3"],
    ["KEYWARD_AUDIT_RETENTION_DAYS", "1.5"],
    ["KEYWARD_AUDIT_REFUSAL_INTERVAL_MS", "50"],
    ["KEYWARD_AUDIT_REFUSAL_INTERVAL_MS", "7200000"],
    ["KEYWARD_HANDSHAKE_TIMEOUT_MS", "5"],
    ["KEYWARD_IDLE_TIMEOUT_MS", "soon"],
    ["KEYWARD_MAX_CONCURRENT_STREAMS", "0"],
    ["KEYWARD_MAX_SESSION_MEMORY_MB", "0.5"],
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

  it("issue 9 item 1: requires a Redis signing secret with REDIS_URL in production", () => {
    const production = { NODE_ENV: "production", MONGODB_URI: "mongodb://db", REDIS_URL: "redis://cache:6379" };
    expect(() => loadConfig(production)).toThrow(/KEYWARD_REDIS_SECRET is required with REDIS_URL/);
    const secret = "s".repeat(32);
    expect(loadConfig({ ...production, KEYWARD_REDIS_SECRET: secret }).redisSecrets).toEqual({ current: secret });
    expect(() => loadConfig({ KEYWARD_REDIS_SECRET_PREVIOUS: secret })).toThrow(/needs KEYWARD_REDIS_SECRET/);
  });

  it("issue 11: reads a Redis Cluster or Sentinel set from KEYWARD_REDIS_TYPE and seed URLs", () => {
    expect(loadConfig({ REDIS_URL: "redis://cache:6379" })).toMatchObject({ redisType: "single" });
    const seeds = "redis://user:pw@h1:7000, redis://user:pw@h2:7001";
    expect(loadConfig({ KEYWARD_REDIS_TYPE: "cluster", REDIS_URL: seeds })).toMatchObject({
      redisType: "cluster",
      redisUrl: seeds,
    });
    const sentinels = { KEYWARD_REDIS_TYPE: "sentinel", REDIS_URL: "rediss://s1:26379,rediss://s2:26379" };
    expect(loadConfig({ ...sentinels, KEYWARD_REDIS_SENTINEL_MASTER: "mymaster" })).toMatchObject({
      redisType: "sentinel",
      redisSentinelMaster: "mymaster",
    });
    expect(() => loadConfig(sentinels)).toThrow(/KEYWARD_REDIS_SENTINEL_MASTER is required/);
    expect(() => loadConfig({ KEYWARD_REDIS_TYPE: "cluster" })).toThrow(/KEYWARD_REDIS_TYPE=cluster needs REDIS_URL/);
    expect(() => loadConfig({ REDIS_URL: seeds })).toThrow(/KEYWARD_REDIS_TYPE=cluster/);
    expect(() => loadConfig({ REDIS_URL: "redis://a:1", KEYWARD_REDIS_SENTINEL_MASTER: "m" })).toThrow(
      /needs KEYWARD_REDIS_TYPE=sentinel/,
    );
    expect(() => loadConfig({ ...sentinels, KEYWARD_REDIS_SENTINEL_MASTER: "bad name" })).toThrow(
      /KEYWARD_REDIS_SENTINEL_MASTER/,
    );
  });

  it("issue 9 items 4 and 5: refuses contradictory or incomplete trust settings", () => {
    expect(() => loadConfig({ KEYWARD_VERIFY_AUTH: "none" })).toThrow(/KEYWARD_VERIFY_KEYSPACES is required/);
    expect(() => loadConfig({ KEYWARD_VERIFY_AUTH: "none", KEYWARD_VERIFY_KEYSPACES: "app,root" })).toThrow(
      /KEYWARD_VERIFY_ROOT_KEYS=true/,
    );
    expect(
      loadConfig({
        KEYWARD_VERIFY_AUTH: "none",
        KEYWARD_VERIFY_KEYSPACES: "app,root",
        KEYWARD_VERIFY_ROOT_KEYS: "true",
      }).verifyKeyspaces,
    ).toEqual(["app", "root"]);
    expect(() => loadConfig({ KEYWARD_VERIFY_KEYSPACES: "Not A Keyspace" })).toThrow(/KEYWARD_VERIFY_KEYSPACES/);
    expect(() => loadConfig({ KEYWARD_REVOKE_ROOT_KEY: "true", KEYWARD_ROOT_KEY: generateRootKey() })).toThrow(
      /contradict/,
    );
  });

  it("keeps audit events a year and sums up refusals before authentication per minute, unless told otherwise", () => {
    expect(loadConfig({}).audit).toEqual({ retentionDays: 365, refusalIntervalMs: 60_000 });
    expect(loadConfig({ KEYWARD_AUDIT_RETENTION_DAYS: "0", KEYWARD_AUDIT_REFUSAL_INTERVAL_MS: "5000" }).audit).toEqual({
      retentionDays: 0,
      refusalIntervalMs: 5_000,
    });
  });
});
