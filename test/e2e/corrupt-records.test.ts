import { Code } from "@connectrpc/connect";
import { type Collection, MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VerifyCode } from "../../gen/keyward/v1/key_pb.js";
import { KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { KeyspaceService } from "../../gen/keyward/v1/keyspace_service_pb.js";
import { createKeyHasher } from "../../src/keys/key-hasher.js";
import { generateKey } from "../../src/keys/key-material.js";
import { callError, connectRoute, ROUTES, type RouteClient } from "../support/clients.js";
import { startTestKeyward, type TestKeyward } from "../support/keyward.js";
import { startTestMongo, type TestMongo } from "../support/mongo.js";

const K = KeyService.method;
const KS = KeyspaceService.method;

/**
 * Issue 9 item 10: one key document that does not decode used to make GetKey
 * and ListKeys of its whole keyspace answer INTERNAL. Here it is what an
 * update with the mask `permissions.0,ratelimits.0.limit` left behind (a null
 * inside permissions, a rate limit without its limit), written straight into
 * MongoDB. Now it is an error for that record alone.
 */
let mongo: TestMongo;
let client: MongoClient;
let keyward: TestKeyward;
let admin: RouteClient;
let healthy: { keyId: string; key: string }[];
/** The damaged key: its id and the secret whose hash it holds. */
const corrupt = { keyId: "", key: generateKey("al", 16) };
/** Root keys that may read keys of alpha, and of beta only. */
let alphaReader: string;
let betaReader: string;

beforeAll(async () => {
  mongo = await startTestMongo();
  keyward = await startTestKeyward({ MONGODB_URI: mongo.uri, MONGODB_DATABASE: mongo.database });
  admin = connectRoute("grpc-js → gRPC port", keyward);
  for (const keyspaceId of ["alpha", "beta"]) await admin.call(KS.createKeyspace, { keyspaceId, name: keyspaceId });
  healthy = [];
  for (const name of ["first", "second"]) {
    healthy.push(
      await admin.call(K.createKey, {
        keyspaceId: "alpha",
        name,
        permissions: ["documents.read"],
        ratelimits: [{ name: "requests", limit: 100n, duration: { seconds: 60n } }],
      }),
    );
  }
  const root = (permissions: string[]) =>
    admin.call(K.createKey, { keyspaceId: "root", name: permissions.join(), permissions }).then(({ key }) => key);
  alphaReader = await root(["keyspace.alpha.read_key", "keyspace.alpha.verify_key"]);
  betaReader = await root(["keyspace.beta.read_key", "keyspace.beta.verify_key"]);

  // A copy of the first key's document, with an id that sorts between the two healthy keys.
  client = new MongoClient(mongo.uri);
  const keys: Collection = client.db(mongo.database).collection("keys");
  const first = healthy[0] as { keyId: string };
  const { _id, ...document } = (await keys.findOne({ keyId: first.keyId })) ?? {};
  corrupt.keyId = `${first.keyId.slice(0, -1)}${first.keyId.endsWith("Z") ? "Y" : "Z"}`;
  await keys.insertOne({
    ...document,
    keyId: corrupt.keyId,
    name: "damaged",
    hash: createKeyHasher()(corrupt.key),
    permissions: [null, "documents.read"],
    ratelimits: [{ name: "requests", durationMs: 60_000 }],
  });
});
afterAll(async () => {
  admin.close();
  await client.close();
  await keyward.stop();
  await mongo.stop();
});

describe("issue 9 item 10: a key document that does not decode", () => {
  it.each(ROUTES)("issue 9 item 10: leaves ListKeys of its keyspace working, without it (%s)", async (route) => {
    const caller = connectRoute(route, keyward);
    const { keys } = await caller.call(K.listKeys, { keyspaceId: "alpha" });
    caller.close();
    expect(keys.map((key) => key.keyId)).toEqual(healthy.map((key) => key.keyId));
  });

  it.each(ROUTES)(
    "issue 9 item 10: is DATA_LOSS to GetKey callers who may see it, and nobody else (%s)",
    async (route) => {
      for (const [rootKey, code] of [
        [keyward.rootKey, Code.DataLoss],
        [alphaReader, Code.DataLoss],
        [betaReader, Code.PermissionDenied],
      ] as const) {
        const caller = connectRoute(route, keyward, rootKey);
        const error = await callError(caller.call(K.getKey, { keyId: corrupt.keyId }));
        // Its neighbours are read as ever.
        const neighbour =
          code === Code.DataLoss ? await caller.call(K.getKey, { keyId: healthy[1]?.keyId ?? "" }) : undefined;
        caller.close();
        expect(error.code, route).toBe(code);
        if (code === Code.PermissionDenied) expect(error.message).toBe("permission denied");
        else expect(neighbour?.key?.name).toBe("second");
      }
    },
  );

  it("issue 9 item 10: fails VerifyKey of its own secret only; its neighbours verify", async () => {
    const verifier = connectRoute("grpc-js → gRPC port", keyward, alphaReader);
    // An error for this lookup (the error mapping decides which), never an answer about the key.
    const error = await callError(verifier.call(K.verifyKey, { key: corrupt.key }));
    expect([Code.Internal, Code.DataLoss]).toContain(error.code);
    for (const key of healthy) {
      expect((await verifier.call(K.verifyKey, { key: key.key, permissionQuery: "documents.read" })).code).toBe(
        VerifyCode.VALID,
      );
    }
    verifier.close();
  });

  it("issue 9 item 10: is logged by key id, never with its contents", () => {
    const lines = keyward.logs.filter((line) => line.includes(corrupt.keyId));
    expect(lines.length).toBeGreaterThan(0);
    const hash = createKeyHasher()(corrupt.key);
    for (const line of keyward.logs) {
      expect(line).not.toContain(hash);
      expect(line).not.toContain(corrupt.key);
    }
  });
});
