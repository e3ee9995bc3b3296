import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { MemoryKeyStore } from "../../src/adapters/memory/memory-key-store.js";
import { closeRedis, type RedisClient, type RedisOptions } from "../../src/adapters/redis/redis-connection.js";
import { RedisRateLimiter } from "../../src/adapters/redis/redis-rate-limiter.js";
import { createLogger } from "../../src/observability/logger.js";
import type { LimitRequest } from "../../src/ratelimit/limits.js";
import { replicas } from "../cache/shared-cache-contract.js";
import { sampleRecord } from "../support/records.js";
import { connectRedisOf } from "../support/redis.js";
import { until } from "../support/redis-processes.js";

const silent = createLogger("silent");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** A failover (detection, election, the old master rejoining) can take longer than the default 30 s on a loaded 2-core machine. */
const FAILOVER_TEST_MS = 90_000;

/**
 * Fails over the server holding Redis key `name` while the test runs:
 * `onKilled` runs once the old master is gone (a crash), not at all for a
 * failover that loses nothing; resolves once the new master serves.
 */
export type FailOver = (name: string, onKilled?: () => void) => Promise<void>;

/**
 * What must survive a failover, whichever way Redis is deployed: rate limits
 * admit no more than the limit plus the increments the old master had not
 * replicated when it died (docs/rate-limits.md), and a revocation made while
 * the master is away reaches every replica.
 */
export function failoverCases(
  deployment: string,
  redis: () => RedisOptions,
  cases: { crash: FailOver; graceful?: FailOver | undefined },
): void {
  describe(`failover under load: ${deployment}`, () => {
    const clients: RedisClient[] = [];
    const connect = async () => {
      const client = await connectRedisOf(redis(), silent);
      clients.push(client);
      return client;
    };
    afterAll(async () => {
      for (const client of clients) await closeRedis(client);
    });

    /** Verifies one subject as fast as it can; `paused` stops sending while the test looks at Redis. */
    function load(limiter: RedisRateLimiter, subject: string, limit: LimitRequest, now: number) {
      const counts = { admitted: 0, refused: 0, failed: 0, paused: false, stopped: false };
      const running = (async () => {
        while (!counts.stopped) {
          if (counts.paused) {
            await sleep(5);
            continue;
          }
          const answers = await Promise.allSettled(
            Array.from({ length: 20 }, () => limiter.consume(subject, [limit], now)),
          );
          for (const answer of answers) {
            if (answer.status === "rejected") counts.failed += 1;
            else if (answer.value[0]?.exceeded) counts.refused += 1;
            else counts.admitted += 1;
          }
          if (answers.some((answer) => answer.status === "rejected")) await sleep(20); // Redis is away
        }
      })();
      const stop = () => {
        counts.stopped = true;
        return running;
      };
      return { counts, stop };
    }

    const t0 = 1_800_000_000_000; // a boundary of hour windows
    const perHour = (limit: number): LimitRequest => ({ name: "requests", limit, durationMs: 3_600_000, cost: 1 });
    const counterOf = (subject: string) => `kw:rl:{${subject}}:requests:3600000:${t0}`;

    it(
      "admits no more than the limit plus what the crashed master had not replicated",
      async () => {
        const limiter = new RedisRateLimiter(await connect());
        const reader = await connect();
        const subject = `key_${randomBytes(6).toString("hex")}`;
        const limit = perHour(3_000);
        const { counts, stop } = load(limiter, subject, limit, t0);
        try {
          await until("load", async () => counts.admitted >= 500);
          expect(Number(await reader.get(counterOf(subject)))).toBeGreaterThan(0); // the name the limiter uses
          let admittedAtCrash = 0;
          await cases.crash(counterOf(subject), () => {
            counts.paused = true;
            admittedAtCrash = counts.admitted;
          });
          let kept = 0;
          await until("the counter to be readable on the new master", async () => {
            kept = Number((await reader.get(counterOf(subject))) ?? 0);
            return true;
          });
          counts.paused = false;
          await until("the limit to be reached", async () => counts.refused >= 200);
          // Increments the old master acknowledged but never replicated are admitted again, nothing more. (The
          // counter may also run ahead: a batch counted and replicated whose answer the crash swallowed.)
          const lost = Math.max(0, admittedAtCrash - kept);
          expect(counts.admitted).toBeLessThanOrEqual(limit.limit + lost);
          expect(counts.admitted).toBeGreaterThan(limit.limit - 100); // and the limit is not a refusal of everything
        } finally {
          await stop();
        }
      },
      FAILOVER_TEST_MS,
    );

    if (cases.graceful) {
      const graceful = cases.graceful;
      it(
        "admits exactly the limit across a failover that loses nothing",
        async () => {
          const limiter = new RedisRateLimiter(await connect());
          const subject = `key_${randomBytes(6).toString("hex")}`;
          const limit = perHour(3_000);
          const { counts, stop } = load(limiter, subject, limit, t0);
          try {
            await until("load", async () => counts.admitted >= 500);
            await graceful(counterOf(subject));
            await until("the limit to be reached", async () => counts.refused >= 200);
            expect(counts.admitted).toBe(limit.limit);
          } finally {
            await stop();
          }
        },
        FAILOVER_TEST_MS,
      );
    }

    it(
      "refuses a key revoked while its master was away, in every replica, new ones too",
      async () => {
        const made = replicas(redis);
        try {
          const inner = new MemoryKeyStore();
          const record = sampleRecord();
          await inner.insert(record);
          const [a, b] = [await made.replica(inner), await made.replica(inner)];
          expect((await a.findByHash(record.hash))?.revoked).toBe(false); // now cached in Redis too
          expect((await b.findByHash(record.hash))?.revoked).toBe(false);
          let revoked: Promise<unknown> = Promise.resolve();
          await cases.crash(`kw:key:{${record.hash}}`, () => {
            revoked = a.update(record.keyId, { revoked: true }); // the store has it; Redis and the bus may not
          });
          await revoked;
          for (const replica of [a, b, await made.replica(inner)]) {
            await expect
              .poll(async () => (await replica.findByHash(record.hash))?.revoked, { interval: 20, timeout: 15_000 })
              .toBe(true);
          }
          // And it stays refused: no stale copy comes back from Redis afterwards.
          await sleep(500);
          const fresh = await made.replica(inner);
          expect((await fresh.findByHash(record.hash))?.revoked).toBe(true);
          expect((await b.findByHash(record.hash))?.revoked).toBe(true);
        } finally {
          await made.close();
        }
      },
      FAILOVER_TEST_MS,
    );
  });
}
