import type { RateLimiter } from "../../ports/rate-limiter.js";
import { assertCosts, decide, type LimitRequest, type LimitResult, windowOf } from "../../ratelimit/limits.js";
import { isCluster, type RedisClient } from "./redis-connection.js";
import { redisCall } from "./redis-errors.js";

/** Counters outlive their window by this much, so that a late reader still finds them. */
const COUNTER_GRACE_MS = 1_000;

interface Waiting {
  readonly subject: string;
  readonly limits: readonly LimitRequest[];
  readonly now: number;
  resolve(results: LimitResult[]): void;
  reject(error: unknown): void;
}

/** Verifications one script call takes at most; a longer queue is sent in several calls. */
const MAX_BATCH = 1_000;

/**
 * Rate limits counted in Redis, shared by every replica (fixed windows;
 * docs/rate-limits.md). Everything asked in the same turn of the event loop
 * (many verifications of a hot key, or every descriptor of one ShouldRateLimit)
 * goes to Redis together, in one script call: one round trip per turn rather
 * than one per counter, and the counts stay exact because the script takes
 * them one after another. On a cluster a script may touch one slot only, so
 * the turn's verifications go in one script call per subject (its counters
 * share the subject's hash tag); node-redis sends the calls of one turn to each
 * node together, so that is still one round trip per node.
 */
export class RedisRateLimiter implements RateLimiter {
  private waiting: Waiting[] = [];

  constructor(private readonly client: RedisClient) {}

  consume(subject: string, limits: readonly LimitRequest[], now: number): Promise<LimitResult[]> {
    if (limits.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      assertCosts(limits);
      if (this.waiting.length === 0) setImmediate(() => void this.sendWaiting());
      this.waiting.push({ subject, limits, now, resolve, reject });
    });
  }

  private async sendWaiting(): Promise<void> {
    const queue = this.waiting;
    this.waiting = [];
    const batches = [];
    for (const group of isCluster(this.client) ? bySubject(queue) : [queue]) {
      for (let i = 0; i < group.length; i += MAX_BATCH) batches.push(this.send(group.slice(i, i + MAX_BATCH)));
    }
    await Promise.all(batches);
  }

  private async send(batch: readonly Waiting[]): Promise<void> {
    const keys: string[] = [];
    const indexOf = new Map<string, number>();
    const args: string[] = [String(batch.length)];
    for (const { subject, limits, now } of batch) {
      args.push(String(limits.length));
      for (const limit of limits) {
        const window = windowOf(now, limit.durationMs);
        // One hash tag per subject keeps its counters in one slot.
        const key = `kw:rl:{${subject}}:${limit.name}:${limit.durationMs}:${window.start}`;
        let index = indexOf.get(key);
        if (index === undefined) {
          index = keys.push(key);
          indexOf.set(key, index);
        }
        args.push(String(index), String(limit.limit), String(limit.cost), String(window.end - now + COUNTER_GRACE_MS));
      }
    }
    try {
      const answers = await redisCall(() => this.client.consumeBatch(keys, args));
      for (const [i, { limits, now, resolve }] of batch.entries()) {
        resolve(decide(limits, answers[i] ?? [], now).results);
      }
    } catch (error) {
      for (const { reject } of batch) reject(error);
    }
  }
}

/** The verifications asked for each subject, in the order they were asked. */
function bySubject(queue: readonly Waiting[]): Waiting[][] {
  const groups = new Map<string, Waiting[]>();
  for (const waiting of queue) {
    const group = groups.get(waiting.subject);
    if (group) group.push(waiting);
    else groups.set(waiting.subject, [waiting]);
  }
  return [...groups.values()];
}
