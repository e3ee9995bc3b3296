import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "redis";
import { afterAll, describe, expect, it } from "vitest";
import { VerifyCode } from "../../gen/keyward/v1/key_pb.js";
import { KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { connectRoute } from "../support/clients.js";
import { startTestKeyward } from "../support/keyward.js";
import { type PrivateRedis, startPrivateRedis } from "../support/redis.js";

/**
 * Issue 9 item 1: Redis as people secure it. An ACL user with a password in
 * REDIS_URL, and TLS (rediss://) with a CA of the deployment's own, reach a
 * real redis-server; the wrong credentials or an untrusted certificate do not.
 */
const scratch = mkdtempSync(join(tmpdir(), "keyward-redis-tls-"));
const started: PrivateRedis[] = [];
afterAll(async () => {
  await Promise.all(started.map((redis) => redis.stop()));
  rmSync(scratch, { recursive: true, force: true });
});

async function privateRedis(args: Parameters<typeof startPrivateRedis>[0]) {
  const redis = await startPrivateRedis(args);
  started.push(redis);
  return redis;
}

/** Starts Keyward on `redisEnv`, verifies a rate-limited key (counted in Redis) and reports readiness. */
async function useRedis(redisEnv: Record<string, string>) {
  const keyward = await startTestKeyward(redisEnv);
  const client = connectRoute("grpc-js → gRPC port", keyward);
  try {
    const { key } = await client.call(KeyService.method.createKey, {
      name: "limited",
      ratelimits: [{ name: "requests", limit: 5n, duration: { seconds: 60n } }],
    });
    const verified = await client.call(KeyService.method.verifyKey, { key });
    const ready = await fetch(`http://127.0.0.1:${keyward.httpPort}/readyz`);
    return { verified, ready: (await ready.json()) as { dependencies: Record<string, string> } };
  } finally {
    client.close();
    await keyward.stop();
  }
}

describe("issue 9 item 1: Redis with an ACL user and password in REDIS_URL", () => {
  it("connects as that user, and reports Redis down with the wrong password", async () => {
    const redis = await privateRedis([
      ...["--user", "default", "off"],
      // The ACL docs/security.md recommends: Keyward's keys and channel only, nothing administrative.
      ...["--user", "keyward", "on", ">s3cret-pass", "~kw:*", "&keyward:*", "+@all", "-@admin", "-@dangerous"],
    ]);
    const url = (password: string) => `redis://keyward:${password}@127.0.0.1:${redis.port}`;
    const good = await useRedis({ REDIS_URL: url("s3cret-pass") });
    expect(good.ready.dependencies.redis).toBe("ok");
    expect(good.verified.ratelimits[0]?.remaining).toBe(4n);
    const bad = await useRedis({ REDIS_URL: url("wrong") });
    expect(bad.ready.dependencies.redis).toBe("unavailable");
  });
});

describe("issue 9 item 1: Redis over TLS (rediss://)", () => {
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: scratch, stdio: "ignore" });
  const file = (name: string) => join(scratch, name);

  /** A CA of our own and a server certificate it signed for 127.0.0.1. */
  function makeCertificates() {
    openssl(
      "req",
      ...["-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=Keyward test CA"],
      ...["-keyout", "ca.key", "-out", "ca.pem"],
    );
    openssl(
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      "/CN=127.0.0.1",
      "-keyout",
      "redis.key",
      "-out",
      "redis.csr",
    );
    writeFileSync(file("san.ext"), "subjectAltName=IP:127.0.0.1\n");
    openssl(
      "x509",
      ...["-req", "-in", "redis.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial"],
      ...["-days", "1", "-extfile", "san.ext", "-out", "redis.pem"],
    );
  }

  it("connects with the deployment's CA (KEYWARD_REDIS_CA_FILE), and not without it", async () => {
    makeCertificates();
    const redis = await privateRedis((port) => [
      ...["--port", "0", "--tls-port", String(port), "--tls-auth-clients", "no"],
      ...[
        "--tls-cert-file",
        file("redis.pem"),
        "--tls-key-file",
        file("redis.key"),
        "--tls-ca-cert-file",
        file("ca.pem"),
      ],
    ]);
    // The server really speaks TLS: a plain client gets nowhere.
    const plain = createClient({ url: `redis://127.0.0.1:${redis.port}`, socket: { reconnectStrategy: false } });
    plain.on("error", () => {});
    await expect(plain.connect().then(() => plain.ping())).rejects.toThrow();
    const url = `rediss://127.0.0.1:${redis.port}`;
    const trusted = await useRedis({ REDIS_URL: url, KEYWARD_REDIS_CA_FILE: file("ca.pem") });
    expect(trusted.ready.dependencies.redis).toBe("ok");
    expect(trusted.verified).toMatchObject({ code: VerifyCode.VALID });
    expect(trusted.verified.ratelimits[0]?.remaining).toBe(4n);
    const untrusted = await useRedis({ REDIS_URL: url });
    expect(untrusted.ready.dependencies.redis).toBe("unavailable");
  });
});
