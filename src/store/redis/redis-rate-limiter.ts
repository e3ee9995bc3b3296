import { decide, type LimitRequest, type LimitResult, windowOf } from "../../ratelimit/limits.js";
import type { RateLimiter } from "../rate-limiter.js";
import type { RedisClient } from "./redis-connection.js";
import { redisCall } from "./redis-errors.js";
import { redisScript } from "./redis-script.js";

/**
 * One atomic step for a batch of verifications of one key, in order. Each
 * verification reads the counts of its windows (as left by the verifications
 * before it in the batch) and, if every window has room for its cost, adds the
 * costs. The script answers, per verification, the counts it saw; `decide`
 * derives each answer from them exactly as the script did.
 *
 * KEYS: the distinct counters. ARGV: the number of verifications, then for
 * each its number of limits, then per limit: counter index, limit, cost,
 * counter lifetime (ms).
 */
const CONSUME_BATCH = redisScript(`
local counts, added, ttls = {}, {}, {}
local function count(k)
  if counts[k] == nil then counts[k] = tonumber(redis.call('GET', KEYS[k]) or '0') end
  return counts[k]
end
local answers = {}
local a = 2
for v = 1, tonumber(ARGV[1]) do
  local n = tonumber(ARGV[a])
  local seen, admitted = {}, true
  for l = 0, n - 1 do
    local k, limit, cost = tonumber(ARGV[a + 1 + 4 * l]), tonumber(ARGV[a + 2 + 4 * l]), tonumber(ARGV[a + 3 + 4 * l])
    seen[l + 1] = count(k)
    if seen[l + 1] + cost > limit then admitted = false end
  end
  if admitted then
    for l = 0, n - 1 do
      local k, cost = tonumber(ARGV[a + 1 + 4 * l]), tonumber(ARGV[a + 3 + 4 * l])
      counts[k] = counts[k] + cost
      added[k] = (added[k] or 0) + cost
      ttls[k] = ARGV[a + 4 + 4 * l]
    end
  end
  answers[v] = seen
  a = a + 1 + 4 * n
end
for k, delta in pairs(added) do
  if delta > 0 then
    redis.call('INCRBY', KEYS[k], delta)
    redis.call('PEXPIRE', KEYS[k], ttls[k])
  end
end
return answers
`);

/** Counters outlive their window by this much, so that a late reader still finds them. */
const COUNTER_GRACE_MS = 1_000;

interface Waiting {
  readonly limits: readonly LimitRequest[];
  readonly now: number;
  resolve(results: LimitResult[]): void;
  reject(error: unknown): void;
}

/**
 * Rate limits counted in Redis, shared by every replica (fixed windows;
 * docs/rate-limits.md). Verifications of the same key that arrive in the same
 * turn of the event loop go to Redis together, in one script call: a hot key
 * costs one round trip per turn rather than one per verification, and the
 * counts stay exact because the script takes them one after another.
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly waiting = new Map<string, Waiting[]>();

  constructor(private readonly client: RedisClient) {}

  consume(subject: string, limits: readonly LimitRequest[], now: number): Promise<LimitResult[]> {
    if (limits.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      const queue = this.waiting.get(subject);
      if (queue) {
        queue.push({ limits, now, resolve, reject });
        return;
      }
      this.waiting.set(subject, [{ limits, now, resolve, reject }]);
      setImmediate(() => void this.send(subject));
    });
  }

  private async send(subject: string): Promise<void> {
    const batch = this.waiting.get(subject) ?? [];
    this.waiting.delete(subject);
    const keys: string[] = [];
    const args: string[] = [String(batch.length)];
    for (const { limits, now } of batch) {
      args.push(String(limits.length));
      for (const limit of limits) {
        const window = windowOf(now, limit.durationMs);
        // One hash tag per key keeps all its counters in one Redis Cluster slot.
        const key = `kw:rl:{${subject}}:${limit.name}:${limit.durationMs}:${window.start}`;
        let index = keys.indexOf(key);
        if (index === -1) index = keys.push(key) - 1;
        args.push(
          String(index + 1),
          String(limit.limit),
          String(limit.cost),
          String(window.end - now + COUNTER_GRACE_MS),
        );
      }
    }
    try {
      const answers = (await redisCall(() => CONSUME_BATCH(this.client, keys, args))) as number[][];
      for (const [i, { limits, now, resolve }] of batch.entries())
        resolve(decide(limits, answers[i] ?? [], now).results);
    } catch (error) {
      for (const { reject } of batch) reject(error);
    }
  }
}
