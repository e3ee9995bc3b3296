import { decide, type LimitRequest, type LimitResult, windowOf } from "../../ratelimit/limits.js";
import type { RateLimiter } from "../rate-limiter.js";
import type { RedisClient } from "./redis-connection.js";
import { redisCall } from "./redis-errors.js";
import { redisScript } from "./redis-script.js";

/**
 * One atomic step for all of a verification's limits: read every window's
 * count; if each has room for its cost, add the costs. Returns the counts as
 * they were before, from which `decide` derives the answer exactly as the
 * script did. ARGV holds limit, cost and counter lifetime (ms) per key.
 */
const CONSUME = redisScript(`
local counts = {}
local admitted = true
for i = 1, #KEYS do
  local count = tonumber(redis.call('GET', KEYS[i]) or '0')
  counts[i] = count
  if count + tonumber(ARGV[3 * i - 1]) > tonumber(ARGV[3 * i - 2]) then admitted = false end
end
if admitted then
  for i = 1, #KEYS do
    local cost = tonumber(ARGV[3 * i - 1])
    if cost > 0 then
      redis.call('INCRBY', KEYS[i], cost)
      redis.call('PEXPIRE', KEYS[i], ARGV[3 * i])
    end
  end
end
return counts
`);

/** Counters outlive their window by this much, so that a late reader still finds them. */
const COUNTER_GRACE_MS = 1_000;

/** Rate limits counted in Redis, shared by every replica (fixed windows; docs/rate-limits.md). */
export class RedisRateLimiter implements RateLimiter {
  constructor(private readonly client: RedisClient) {}

  async consume(subject: string, limits: readonly LimitRequest[], now: number): Promise<LimitResult[]> {
    if (limits.length === 0) return [];
    // One hash tag per key keeps all its counters in one Redis Cluster slot.
    const keys = limits.map(
      (limit) => `kw:rl:{${subject}}:${limit.name}:${limit.durationMs}:${windowOf(now, limit.durationMs).start}`,
    );
    const args = limits.flatMap((limit) => [
      String(limit.limit),
      String(limit.cost),
      String(windowOf(now, limit.durationMs).end - now + COUNTER_GRACE_MS),
    ]);
    const counts = (await redisCall(() => CONSUME(this.client, keys, args))) as number[];
    return decide(limits, counts, now).results;
  }
}
