import { createHash, randomBytes } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Authorization } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { AuditService } from "../../gen/keyward/v1/audit_service_pb.js";
import { VerifyCode } from "../../gen/keyward/v1/key_pb.js";
import { KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { KeyspaceService } from "../../gen/keyward/v1/keyspace_service_pb.js";
import { callError, connectRoute, type RouteClient } from "../support/clients.js";
import { checkRequest } from "../support/envoy-requests.js";
import { startTestKeyward, type TestKeyward } from "../support/keyward.js";

const K = KeyService.method;
const KS = KeyspaceService.method;

/** A key as another vendor makes it: its prefix, "_", random text, and no Keyward checksum. */
function vendorKey(prefix = "sk_live"): string {
  return `${prefix}_${randomBytes(24).toString("base64url").replaceAll(/[-_]/g, "x")}`;
}
const sha256 = (key: string, encoding: "hex" | "base64" | "base64url") =>
  createHash("sha256").update(key).digest(encoding);

/** The batch's answers as [code name or "OK", key id present, secret present]. */
function summary(results: { result: { case: string | undefined; value?: unknown } }[]) {
  return results.map(({ result }) =>
    result.case === "created"
      ? ["OK", Boolean((result.value as { keyId: string }).keyId), Boolean((result.value as { key: string }).key)]
      : [Code[(result.value as { code: number }).code], (result.value as { message: string }).message],
  );
}

/** The key id a batch answered for an item that was created. */
function createdId(item: { result: { case: string | undefined; value?: unknown } } | undefined): string {
  return item?.result.case === "created" ? (item.result.value as { keyId: string }).keyId : "";
}

for (const hashSecret of [undefined, randomBytes(32).toString("base64url")]) {
  describe(`CreateKeys and ImportKeys (${hashSecret ? "with" : "without"} KEYWARD_HASH_SECRET)`, () => {
    let keyward: TestKeyward;
    let admin: RouteClient;
    let creator: RouteClient;
    beforeAll(async () => {
      keyward = await startTestKeyward(hashSecret ? { KEYWARD_HASH_SECRET: hashSecret } : {});
      admin = connectRoute("grpc-js → gRPC port", keyward);
      await admin.call(KS.createKeyspace, { keyspaceId: "billing", name: "billing" });
      await admin.call(KS.createKeyspace, { keyspaceId: "other", name: "other" });
      const { key } = await admin.call(K.createKey, {
        keyspaceId: "root",
        name: "billing creator",
        permissions: ["keyspace.billing.create_key"],
      });
      creator = connectRoute("connect → HTTP port", keyward, key);
    });
    afterAll(async () => {
      admin?.close();
      creator?.close();
      await keyward?.stop();
    });

    it("creates each valid item, answers each bad one with its field or refusal, and audits every item", async () => {
      const { results } = await creator.call(K.createKeys, {
        keys: [
          { keyspaceId: "billing", name: "first" },
          { keyspaceId: "billing", name: "" },
          { keyspaceId: "other", name: "not mine" },
          { keyspaceId: "billing", name: "huge", byteLength: 9 },
          { keyspaceId: "billing", name: "second", prefix: "sk_test" },
        ],
      });
      expect(summary(results)).toEqual([
        ["OK", true, true],
        ["InvalidArgument", expect.stringMatching(/^name: /)],
        ["PermissionDenied", "permission denied: needs keyspace.other.create_key"],
        ["InvalidArgument", expect.stringMatching(/^byte_length: /)],
        ["OK", true, true],
      ]);
      for (const item of [results[0], results[4]]) {
        const created = item?.result.value as { keyId: string; key: string };
        const answer = await admin.call(K.verifyKey, { key: created.key });
        expect([answer.code, answer.keyId]).toEqual([VerifyCode.VALID, created.keyId]);
      }
      const { events } = await admin.call(AuditService.method.listAuditEvents, { action: "CreateKeys" });
      expect(events.map((event) => [event.keyspaceId, event.outcome, event.keyId !== ""]).reverse()).toEqual([
        ["billing", "OK", true],
        ["billing", "INVALID_ARGUMENT", false],
        ["other", "PERMISSION_DENIED", false],
        ["billing", "INVALID_ARGUMENT", false],
        ["billing", "OK", true],
      ]);
    });

    it("refuses a batch over 1,000 items or with none, as a whole", async () => {
      expect((await callError(creator.call(K.createKeys, { keys: [] }))).code).toBe(Code.InvalidArgument);
      const tooMany = Array.from({ length: 1_001 }, () => ({ keyspaceId: "billing", name: "x" }));
      expect((await callError(creator.call(K.createKeys, { keys: tooMany }))).code).toBe(Code.InvalidArgument);
    });

    it("imports keys by plaintext, hex SHA-256 and base64 SHA-256; they verify once their keyspace lists the prefix", async () => {
      const [plain, hex, base64, base64url] = [vendorKey(), vendorKey(), vendorKey(), vendorKey()] as [
        string,
        string,
        string,
        string,
      ];
      const made = await admin.call(K.createKey, { keyspaceId: "billing", name: "a keyward key", prefix: "sk_live" });
      const { results } = await admin.call(K.importKeys, {
        keys: [
          {
            settings: { keyspaceId: "billing", name: "plain", prefix: "sk_live" },
            secret: { case: "plaintext", value: plain },
          },
          {
            settings: { keyspaceId: "billing", name: "hex", prefix: "sk_live" },
            secret: { case: "sha256", value: sha256(hex, "hex") },
            start: "sk_live_abcd",
          },
          {
            settings: { keyspaceId: "billing", name: "b64", prefix: "sk_live" },
            secret: { case: "sha256", value: sha256(base64, "base64") },
          },
          {
            settings: { keyspaceId: "billing", name: "b64url", prefix: "sk_live" },
            secret: { case: "sha256", value: sha256(base64url, "base64url") },
          },
          {
            settings: { keyspaceId: "billing", name: "wrong prefix", prefix: "pk" },
            secret: { case: "plaintext", value: vendorKey() },
          },
          {
            settings: { keyspaceId: "billing", name: "short hash", prefix: "sk_live" },
            secret: { case: "sha256", value: "abcd" },
          },
          {
            settings: { keyspaceId: "billing", name: "again", prefix: "sk_live" },
            secret: { case: "plaintext", value: plain },
          },
          {
            settings: { keyspaceId: "root", name: "root", prefix: "kw_root" },
            secret: { case: "plaintext", value: vendorKey("kw_root") },
          },
          { settings: { keyspaceId: "billing", name: "no prefix" }, secret: { case: "plaintext", value: vendorKey() } },
          {
            settings: { keyspaceId: "billing", name: "keyward's own", prefix: "sk_live" },
            secret: { case: "plaintext", value: made.key },
          },
        ],
      });
      expect(summary(results)).toEqual([
        ["OK", true, false],
        ["OK", true, false],
        ["OK", true, false],
        ["OK", true, false],
        ["InvalidArgument", expect.stringMatching(/^plaintext: /)],
        ["InvalidArgument", expect.stringMatching(/^sha256: /)],
        ["AlreadyExists", "a key with this secret already exists"],
        ["FailedPrecondition", "root keys cannot be imported"],
        ["InvalidArgument", expect.stringMatching(/^settings.prefix: /)],
        ["AlreadyExists", "a key with this secret already exists"],
      ]);
      const verify = async (key: string) => (await admin.call(K.verifyKey, { key })).code;
      // Without the keyspace's say-so, a key lacking the checksum never reaches the lookup.
      expect(await verify(plain)).toBe(VerifyCode.NOT_FOUND);
      await admin.call(KS.updateKeyspace, {
        keyspaceId: "billing",
        updateMask: { paths: ["key_defaults"] },
        keyDefaults: { importedPrefixes: ["sk_live"] },
      });
      // The prefixes are reread within 5 s.
      await expect.poll(() => verify(plain), { timeout: 8_000, interval: 250 }).toBe(VerifyCode.VALID);
      for (const key of [hex, base64, base64url, made.key]) expect(await verify(key)).toBe(VerifyCode.VALID);
      // Envoy's Check follows the same rules: the imported key passes, a made-up one of its prefix does not.
      const check = async (key: string) =>
        (await admin.call(Authorization.method.check, checkRequest("check-request-http1", key))).status?.code;
      expect(await check(plain)).toBe(0);
      expect(await check(vendorKey())).toBe(Code.Unauthenticated);
      // Made-up keys of the prefix reach the lookup and are not found; other prefixes are turned away as before.
      expect(await verify(vendorKey())).toBe(VerifyCode.NOT_FOUND);
      expect(await verify(vendorKey("pk"))).toBe(VerifyCode.NOT_FOUND);
      const { key: shown } = await admin.call(K.getKey, {
        keyId: createdId(results[1]),
      });
      expect([shown?.start, shown?.name]).toEqual(["sk_live_abcd", "hex"]);
      const { key: derived } = await admin.call(K.getKey, {
        keyId: createdId(results[0]),
      });
      expect(derived?.start).toBe(plain.slice(0, 12));
    });

    it("an imported key stays in its keyspace: another keyspace listing the prefix does not make it verify there", async () => {
      const key = vendorKey("ghp");
      await admin.call(KS.updateKeyspace, {
        keyspaceId: "other",
        updateMask: { paths: ["key_defaults"] },
        keyDefaults: { importedPrefixes: ["ghp"] },
      });
      await admin.call(K.importKeys, {
        keys: [
          { settings: { keyspaceId: "billing", name: "gh", prefix: "ghp" }, secret: { case: "plaintext", value: key } },
        ],
      });
      await new Promise((resolve) => setTimeout(resolve, 5_500));
      expect((await admin.call(K.verifyKey, { key })).code).toBe(VerifyCode.NOT_FOUND);
    });

    it("needs import_key: create_key alone does not let a caller choose a secret", async () => {
      const error = await callError(
        creator.call(K.importKeys, {
          keys: [
            {
              settings: { keyspaceId: "billing", name: "x", prefix: "sk_live" },
              secret: { case: "plaintext", value: vendorKey() },
            },
          ],
        }),
      );
      expect(error).toEqual({ code: Code.PermissionDenied, message: "permission denied" });
      const { key } = await admin.call(K.createKey, {
        keyspaceId: "root",
        name: "billing importer",
        permissions: ["keyspace.billing.import_key"],
      });
      const importer = connectRoute("connect → HTTP port", keyward, key);
      const { results } = await importer.call(K.importKeys, {
        keys: [
          {
            settings: { keyspaceId: "other", name: "x", prefix: "ghp" },
            secret: { case: "sha256", value: "b".repeat(64) },
          },
        ],
      });
      importer.close();
      expect(summary(results)).toEqual([["PermissionDenied", "permission denied: needs keyspace.other.import_key"]]);
    });
  });
}
