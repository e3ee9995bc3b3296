import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VerifyCode } from "../../gen/keyward/v1/key_pb.js";
import { KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { generateRootKey } from "../../src/composition/bootstrap.js";
import { connectRoute, type RouteClient } from "../support/clients.js";
import { type KeywardProcess, startKeywardProcess } from "../support/process.js";
import type { PrivateRedis } from "../support/redis.js";
import { type ReplicaPair, startReplicaPair } from "../support/replica-pair.js";

/**
 * Credits spent from leases by two Keyward processes sharing one MongoDB and
 * one Redis (of this test's own, so it can be restarted): exactly the credits
 * are admitted, never more, while Redis restarts too; a replica killed with
 * SIGKILL loses at most the lease it held.
 */
const K = KeyService.method;
const rootKey = generateRootKey();
const LEASE_MAX = 500;
const CREDITS = 10_000;
const MIDDLE = Math.floor(CREDITS / 3);
let pair: ReplicaPair;
let redis: PrivateRedis;
let replicas: ReplicaPair["replicas"];
let a: RouteClient;
let b: RouteClient;
let env: Record<string, string>;

beforeAll(async () => {
  pair = await startReplicaPair(rootKey, {
    KEYWARD_CREDIT_LEASE_MAX: String(LEASE_MAX),
    KEYWARD_CREDIT_LEASE_TTL_MS: "3000",
    KEYWARD_CREDIT_LEASE_IDLE_MS: "300",
  });
  ({ redis, replicas, a, b, env } = pair);
}, 60_000);
afterAll(() => pair?.stop());

/** The sum of a counter's samples on a replica's /metrics. */
async function counter(replica: KeywardProcess, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${replica.httpPort}/metrics`)).text();
  return text
    .split("\n")
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .reduce((sum, line) => sum + Number(line.split(" ").at(-1)), 0);
}

interface Run {
  admitted: number;
  refused: number;
  /** Calls that ended in an error (a killed replica): whether they spent a credit is unknown. */
  failed: number;
}

/**
 * Verifies `key` from 8 callers over the replicas given until `target`
 * credits are admitted and then for 1 s more (to see that no more are), or
 * until nothing was admitted for 10 s (a stall: what is left is out of reach);
 * `during` runs once `atAdmitted` credits are admitted. Bounded by 75 s.
 */
async function spendAll(
  key: string,
  clients: RouteClient[],
  target: number,
  options: { atAdmitted?: number; during?: () => Promise<unknown>; kills?: RouteClient } = {},
): Promise<Run> {
  const run: Run = { admitted: 0, refused: 0, failed: 0 };
  const deadline = performance.now() + 75_000;
  let lastAdmittedAt = performance.now();
  let disturbed: Promise<unknown> | undefined;
  const dead = new Set<RouteClient>();
  const verify = async (client: RouteClient): Promise<VerifyCode | undefined> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return (await client.call(K.verifyKey, { key })).code;
      } catch (error) {
        // UNAVAILABLE under load is tried again, as a client would; a replica gone for good is given up.
        if (attempt === 5 || ConnectError.from(error).code !== Code.Unavailable) return undefined;
        if (dead.has(client)) return undefined;
      }
    }
  };
  const worker = async (client: RouteClient) => {
    while (performance.now() < deadline && !dead.has(client)) {
      if (performance.now() - lastAdmittedAt > (run.admitted >= target ? 1_000 : 10_000)) return;
      const code = await verify(client);
      if (code === VerifyCode.VALID) {
        run.admitted += 1;
        lastAdmittedAt = performance.now();
      } else if (code === VerifyCode.USAGE_EXCEEDED) run.refused += 1;
      else run.failed += 1;
      if (options.atAdmitted !== undefined && run.admitted >= options.atAdmitted && !disturbed) {
        const { kills } = options;
        // Callers of a replica being killed stop once it is dead.
        disturbed = options.during?.().then(() => kills && dead.add(kills));
      }
    }
  };
  await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map((i) => worker(clients[i % clients.length] as RouteClient)));
  await disturbed;
  return run;
}

describe("credits leased by two replicas", () => {
  it(`admit exactly ${CREDITS} of ${CREDITS} credits, with at most one MongoDB write per 50 verifications`, async () => {
    const { key, keyId } = await a.call(K.createKey, { name: "hot", remaining: BigInt(CREDITS) });
    const writesBefore = (await Promise.all(replicas.map((r) => counter(r, "keyward_credit_writes_total")))).reduce(
      (x, y) => x + y,
    );
    const run = await spendAll(key, [a, b], CREDITS);
    const writes =
      (await Promise.all(replicas.map((r) => counter(r, "keyward_credit_writes_total")))).reduce((x, y) => x + y) -
      writesBefore;
    const verifications = run.admitted + run.refused;
    console.log(
      `two replicas, ${CREDITS} credits: ${JSON.stringify(run)}; ${writes} credit writes to MongoDB for ${verifications} verifications (one per ${(verifications / writes).toFixed(0)}; one per ${(CREDITS / writes).toFixed(0)} admitted)`,
    );
    expect(run.admitted).toBe(CREDITS);
    expect(run.failed).toBe(0);
    expect(writes * 50).toBeLessThanOrEqual(CREDITS);
    expect((await a.call(K.getKey, { keyId })).key?.remaining).toBe(0n);
  }, 120_000);

  it(`admit exactly ${CREDITS} of ${CREDITS} credits while Redis restarts in the middle`, async () => {
    const { key, keyId } = await a.call(K.createKey, {
      name: "hot through a Redis restart",
      remaining: BigInt(CREDITS),
    });
    const run = await spendAll(key, [a, b], CREDITS, {
      atAdmitted: MIDDLE,
      during: () => redis.stop().then(() => redis.start()),
    });
    console.log(`two replicas, ${CREDITS} credits, Redis restarted after ${MIDDLE}: ${JSON.stringify(run)}`);
    expect(run.admitted).toBe(CREDITS);
    expect((await a.call(K.getKey, { keyId })).key?.remaining).toBe(0n);
  }, 120_000);

  it("give a lease back when a replica stops gracefully (SIGTERM): nothing is lost", async () => {
    // c keeps its lease until it stops: it neither goes idle nor expires within the test.
    const third = await startKeywardProcess("node", ["dist/src/main.js"], {
      ...env,
      KEYWARD_CREDIT_LEASE_IDLE_MS: "600000",
      KEYWARD_CREDIT_LEASE_TTL_MS: "600000",
    });
    const c = connectRoute("grpc-js → gRPC port", { ...third, rootKey });
    try {
      const { key, keyId } = await a.call(K.createKey, { name: "spent, then stopped", remaining: 1_000n });
      const unleased = async () => Number((await a.call(K.getKey, { keyId })).key?.remaining);
      // Verify on c until it holds part of a lease (the store counts fewer than were spent as unleased).
      let spent = 0;
      let held = false;
      while (spent < 900 && !held) {
        for (let i = 0; i < 10; i++) expect((await c.call(K.verifyKey, { key })).valid).toBe(true);
        spent += 10;
        held = (await unleased()) < 1_000 - spent;
      }
      expect(held).toBe(true);
      expect(await third.signal("SIGTERM")).toBe(0);
      expect(await unleased()).toBe(1_000 - spent);
    } finally {
      c.close();
      if (third.child.exitCode === null) await third.signal("SIGKILL");
    }
  }, 60_000);

  // Last: it kills replica b.
  it("lose at most the killed replica's lease when one is SIGKILLed in the middle, and never admit more", async () => {
    const { key, keyId } = await a.call(K.createKey, { name: "hot through a SIGKILL", remaining: BigInt(CREDITS) });
    const run = await spendAll(key, [a, b], CREDITS, {
      atAdmitted: MIDDLE,
      during: () => replicas[1].signal("SIGKILL"),
      kills: b,
    });
    // What a still holds goes back when its GetKey reads the key; a then spends what is left.
    const left = Number((await a.call(K.getKey, { keyId })).key?.remaining);
    const rest = await spendAll(key, [a], left);
    run.admitted += rest.admitted;
    run.refused += rest.refused;
    const lost = CREDITS - run.admitted;
    console.log(
      `two replicas, ${CREDITS} credits, b SIGKILLed after ${MIDDLE}: ${JSON.stringify(run)}; ${lost} credits lost (the bound: b's lease, at most ${LEASE_MAX}, of which ${run.failed} calls in flight may have been spent)`,
    );
    expect(run.admitted).toBeLessThanOrEqual(CREDITS);
    expect(lost).toBeLessThanOrEqual(LEASE_MAX);
    // Nothing is left to lease: b's lease is never handed out again.
    expect((await a.call(K.getKey, { keyId })).key?.remaining).toBe(0n);
    expect((await a.call(K.verifyKey, { key })).code).toBe(VerifyCode.USAGE_EXCEEDED);
  }, 120_000);
});
