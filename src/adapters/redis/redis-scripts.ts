import { type CommandParser, defineScript } from "redis";

/**
 * The Lua scripts Keyward runs, registered with each client (node-redis
 * `scripts`): node-redis calls them by SHA and loads them again when Redis has
 * forgotten them (after a restart).
 */

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
export const consumeBatch = defineScript({
  SCRIPT: `
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
`,
  parseCommand(parser: CommandParser, keys: string[], args: string[]) {
    parser.pushKeysLength(keys);
    parser.push(...args);
  },
  // The counts each verification saw, one list per verification.
  transformReply: undefined as unknown as () => number[][],
});

/** Every script, as createClient's `scripts` option takes them. */
export const scripts = { consumeBatch };
