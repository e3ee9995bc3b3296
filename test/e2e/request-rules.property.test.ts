import { create, type DescMethodUnary, type DescService } from "@bufbuild/protobuf";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditService } from "../../gen/keyward/v1/audit_service_pb.js";
import { KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { KeyspaceService } from "../../gen/keyward/v1/keyspace_service_pb.js";
import { arbitraryRequest } from "../support/arbitrary-request.js";
import { type CallError, callError, connectRoute, ROUTES, type RouteClient } from "../support/clients.js";
import { startTestKeyward, type TestKeyward } from "../support/keyward.js";

/**
 * Issue 9: the request rules of every method, as properties. For requests made
 * from each method's descriptor (near and past every bound), a refusal is the
 * same code and message on every route of both ports, and changes nothing.
 * Seeded (FC_SEED), bounded (REQUEST_RUNS per method).
 */
const seed = Number(process.env.FC_SEED ?? 20261203);
const runs = Number(process.env.REQUEST_RUNS ?? 25);
const methods = [KeyService, KeyspaceService, AuditService].flatMap((service: DescService) =>
  service.methods.filter((method): method is DescMethodUnary => method.methodKind === "unary"),
);

let keyward: TestKeyward;
let clients: RouteClient[];
let admin: RouteClient;
beforeAll(async () => {
  keyward = await startTestKeyward();
  clients = ROUTES.map((route) => connectRoute(route, keyward));
  admin = connectRoute("grpc-js → gRPC port", keyward);
  await admin.call(KeyspaceService.method.createKeyspace, { keyspaceId: "billing", name: "billing" });
  await admin.call(KeyService.method.createKey, { keyspaceId: "billing", name: "a key", remaining: 5n });
});
afterAll(async () => {
  for (const client of [...clients, admin]) client.close();
  await keyward.stop();
});

/** What the stores hold, through the API (the audit log aside: it records refusals too). */
async function state() {
  const [keys, keyspaces] = await Promise.all([
    admin.call(KeyService.method.listKeys, { pageSize: 1000 }),
    admin.call(KeyspaceService.method.listKeyspaces, { pageSize: 1000 }),
  ]);
  return { keys: keys.keys.map(({ usage, lastUsedAt, ...key }) => key), keyspaces: keyspaces.keyspaces };
}

describe("issue 9: every method's request rules (property, both ports)", () => {
  it.each(methods.map((method) => [`${method.parent.name}.${method.name}`, method] as const))(
    "%s: a refusal is the same on every route and changes nothing",
    async (_, method) => {
      const requests = fc.sample(arbitraryRequest(method.input), { seed, numRuns: runs });
      let refused = 0;
      for (const init of requests) {
        const request = create(method.input, init);
        const before = await state();
        const [first, ...others] = clients;
        const answer = await (first as RouteClient).call(method, request).then(
          () => undefined,
          (error: unknown) => error,
        );
        if (answer === undefined) continue; // accepted: it may change things, and the next route would differ
        refused += 1;
        const expected: CallError = await callError(Promise.reject(answer));
        for (const [i, client] of others.entries()) {
          expect(await callError(client.call(method, request)), `${ROUTES[i + 1]}: ${describeRequest(init)}`).toEqual(
            expected,
          );
        }
        expect(await state(), `${method.name} refused with ${expected.message}, yet changed the stores`).toEqual(
          before,
        );
      }
      // The generator must reach the rules: most of what it makes breaks one.
      expect(refused).toBeGreaterThan(0);
    },
  );
});

/** A request as text for a failure message (bigints as digits). */
function describeRequest(init: unknown): string {
  return JSON.stringify(init, (_, value) => (typeof value === "bigint" ? String(value) : value)).slice(0, 500);
}
