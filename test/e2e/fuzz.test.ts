import net from "node:net";
import { create, type DescMethodUnary, type DescService, toBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Authorization } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { RateLimitService } from "../../gen/envoy/service/ratelimit/v3/rls_pb.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { AuditService } from "../../gen/keyward/v1/audit_service_pb.js";
import { VerifyCode } from "../../gen/keyward/v1/key_pb.js";
import { KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { KeyspaceService } from "../../gen/keyward/v1/keyspace_service_pb.js";
import { connectRoute } from "../support/clients.js";
import { startTestKeyward, type TestKeyward } from "../support/keyward.js";
import { connectCall, envelope, grpcCall, grpcWebCall, type RawAnswer } from "../support/raw-calls.js";

/**
 * Issue 9: a bounded, seeded fuzz of both ports with malformed framing and
 * bodies. Whatever arrives: no crash, no INTERNAL or UNKNOWN for bad input,
 * and the server answers a good call afterwards. FC_SEED picks another seed;
 * FUZZ_RUNS another number of cases per protocol.
 */
const seed = Number(process.env.FC_SEED ?? 20261203);
const runs = Number(process.env.FUZZ_RUNS ?? 200);

/** Codes that would mean Keyward failed, not the caller. */
const SERVER_FAULTS = new Set<RawAnswer["code"]>([Code.Internal, Code.Unknown, Code.DataLoss]);

const methodsOf = (...services: DescService[]) =>
  services
    .flatMap((service) => service.methods)
    .filter((method): method is DescMethodUnary => method.methodKind === "unary");
/** Keyward's own services, served on both ports. */
const keywardMethods = methodsOf(KeyService, KeyspaceService, AuditService);
/** Everything the gRPC port serves (Envoy's services too). */
const methods = [...keywardMethods, ...methodsOf(Authorization, RateLimitService)];
const path = (method: DescMethodUnary) => `/${method.parent.typeName}/${method.name}`;

let keyward: TestKeyward;
beforeAll(async () => {
  keyward = await startTestKeyward();
});
afterAll(() => keyward.stop());

/** A body made to almost be a message: a valid one with bytes changed, cut, or grown; or noise. */
const body = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc
    .tuple(fc.constantFrom(...methods), fc.uint8Array({ minLength: 1, maxLength: 8 }), fc.nat())
    .map(([method, noise, at]) => {
      const valid = toBinary(method.input, create(method.input, sampleRequest(method)));
      const position = valid.length === 0 ? 0 : at % valid.length;
      return Uint8Array.from([...valid.subarray(0, position), ...noise, ...valid.subarray(position)]);
    }),
  fc.constantFrom(
    Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), // a length far past the end
    Uint8Array.from([0x0a, 0x02, 0xc3, 0x28]), // invalid UTF-8 in field 1
    Uint8Array.from([0x08]), // a tag with no value
    Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), // an over-long varint
  ),
);

/** A gRPC frame around the body, made wrong in one of the ways a client can get it wrong. */
const frame = fc.oneof(
  body.map((bytes) => envelope(bytes)),
  body.map((bytes) => envelope(bytes, 1)), // compressed, with no encoding negotiated
  body.map((bytes) => envelope(bytes).subarray(0, 3)), // a cut header
  body.map((bytes) => {
    const framed = envelope(bytes);
    framed.writeUInt32BE(bytes.length + 100, 1); // says more than it sends
    return framed;
  }),
  fc.tuple(body, body).map(([a, b]) => Buffer.concat([envelope(a), envelope(b)])), // two messages for a unary call
);

/** The same cases for every protocol: a method and what to send it. */
function cases<T>(payload: fc.Arbitrary<T>, among = methods): [DescMethodUnary, T][] {
  return fc.sample(fc.tuple(fc.constantFrom(...among), payload), { seed, numRuns: runs });
}

function expectNoServerFault(answer: RawAnswer, what: string): void {
  expect(SERVER_FAULTS.has(answer.code), `${what}: ${String(answer.code)} ${answer.message}`).toBe(false);
}

/** A request that decodes (valid or not): VerifyKey's with a key in it, every other method's empty one. */
function sampleRequest(method: DescMethodUnary): Record<string, unknown> {
  return method === KeyService.method.verifyKey ? { key: "kw_abc" } : {};
}

const auth = () => ({ authorization: `Bearer ${keyward.rootKey}` });

describe("issue 9: fuzzing both ports with malformed framing and bodies (seeded, bounded)", () => {
  it("the gRPC port answers every malformed gRPC call without a server fault", async () => {
    for (const [method, bytes] of cases(frame)) {
      expectNoServerFault(await grpcCall(keyward.grpcPort, path(method), bytes, auth()), method.name);
    }
  });

  it("the HTTP port answers every malformed gRPC, gRPC-Web and Connect call without a server fault", async () => {
    for (const [method, bytes] of cases(frame, keywardMethods)) {
      expectNoServerFault(await grpcCall(keyward.httpPort, path(method), bytes, auth()), `gRPC ${method.name}`);
      expectNoServerFault(await grpcWebCall(keyward.httpPort, path(method), bytes, auth()), `gRPC-Web ${method.name}`);
    }
    const json = fc.oneof(
      fc.json({ maxDepth: 4 }),
      fc.string({ maxLength: 200 }),
      fc.nat({ max: 3_000 }).map((depth) => `{"meta":${'{"a":'.repeat(depth)}1${"}".repeat(depth)}}`),
      fc.constantFrom('{"keyId": 7}', '{"key": "\\ud800"}', '{"keyspaceId": null, "nope": 1}', "[]", "{"),
    );
    for (const [method, text] of cases(json, keywardMethods)) {
      const answer = await connectCall(keyward.httpPort, {
        path: path(method),
        headers: { "content-type": "application/json", ...auth() },
        body: text,
      });
      expectNoServerFault(answer, `Connect JSON ${method.name} ${text.slice(0, 80)}`);
    }
    for (const [method, bytes] of cases(body, keywardMethods)) {
      const answer = await connectCall(keyward.httpPort, {
        path: path(method),
        headers: { "content-type": "application/proto", ...auth() },
        body: bytes,
      });
      expectNoServerFault(answer, `Connect proto ${method.name}`);
    }
  });

  it("both ports survive raw garbage on the socket, and still answer a good call afterwards", async () => {
    const garbage = fc.sample(
      fc.oneof(
        fc.uint8Array({ maxLength: 200 }),
        fc.constant(Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x04\xff\xff\xff\xff")), // a preface, then junk
        fc.constant(Buffer.from("POST /keyward.v1.KeyService/VerifyKey HTTP/1.1\r\nHost: a b\r\n\r\n")),
      ),
      { seed, numRuns: runs },
    );
    for (const port of [keyward.grpcPort, keyward.httpPort]) {
      for (const bytes of garbage) await sendAndHangUp(port, bytes);
    }
    const client = connectRoute("grpc-js → gRPC port", keyward);
    const { key } = await client.call(KeyService.method.createKey, { name: "after the fuzz" });
    expect((await client.call(KeyService.method.verifyKey, { key })).code).toBe(VerifyCode.VALID);
    expect((await client.call(Health.method.check, {})).status).toBe(1);
    client.close();
    const http = connectRoute("connect → HTTP port", keyward);
    expect((await http.call(KeyService.method.verifyKey, { key })).code).toBe(VerifyCode.VALID);
    http.close();
  });
});

/** Writes the bytes on a fresh connection, then closes it (or lets the server close it first). */
function sendAndHangUp(port: number, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1", () => {
      socket.write(bytes);
      setTimeout(() => socket.destroy(), 20);
    });
    socket.on("error", () => {});
    socket.on("close", () => resolve());
  });
}
