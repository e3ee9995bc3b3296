import type { MessageInitShape } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { LRUCache } from "lru-cache";
import type { RateLimitDescriptor } from "../../gen/envoy/extensions/common/ratelimit/v3/ratelimit_pb.js";
import {
  RateLimitResponse_Code,
  type RateLimitResponse_DescriptorStatusSchema,
  RateLimitResponse_RateLimit_Unit,
  type RateLimitService,
} from "../../gen/envoy/service/ratelimit/v3/rls_pb.js";
import type { Principal } from "../auth/principal.js";
import type { ServiceHandlers } from "../chain/call.js";
import type { Clock } from "../keys/clock.js";
import { KEY_ID_PATTERN } from "../keys/key-id.js";
import type { RatelimitPolicy } from "../keys/key-record.js";
import type { Logger } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";
import { CorruptRecordError } from "../ports/corrupt-record-error.js";
import type { KeyRecords } from "../ports/key-records.js";
import type { RateLimiter } from "../ports/rate-limiter.js";
import { CounterBudget } from "../ratelimit/counter-budget.js";
import { descriptorRequestProblem } from "../ratelimit/descriptor-request.js";
import {
  type DescriptorConfig,
  type DescriptorMatch,
  matchDescriptor,
  type RateUnit,
  UNIT_MS,
} from "../ratelimit/descriptor-rules.js";
import { type LimitRequest, type LimitResult, limitsFor, windowOf } from "../ratelimit/limits.js";
import type { VerifierScope } from "../verification/verifier-scope.js";

export interface RatelimitServiceDeps {
  /** The rules (KEYWARD_RATELIMIT_CONFIG); without them every descriptor is unlimited. */
  readonly config?: DescriptorConfig | undefined;
  readonly limiter: RateLimiter;
  readonly keys: Pick<KeyRecords, "get">;
  /** Whose keys' own limits a caller may count against: the same reach as verifying them. */
  readonly scopeOf: (principal: Principal | undefined) => VerifierScope;
  /** KEYWARD_RATELIMIT_MAX_COUNTERS_PER_RULE. */
  readonly maxCountersPerRule: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Pick<Metrics, "ratelimit">;
}

/** What one descriptor is counted against, worked out before anything is counted. */
type Plan =
  | { readonly kind: "unlimited" }
  | { readonly kind: "count"; readonly subject: string; readonly limits: LimitRequest[]; readonly shadowMode: boolean };

/** How long a key's own limits are reused before the key is read again. */
const KEY_LIMITS_TTL_MS = 1_000;
const UNITS: Record<RateUnit, RateLimitResponse_RateLimit_Unit> = {
  second: RateLimitResponse_RateLimit_Unit.SECOND,
  minute: RateLimitResponse_RateLimit_Unit.MINUTE,
  hour: RateLimitResponse_RateLimit_Unit.HOUR,
  day: RateLimitResponse_RateLimit_Unit.DAY,
  month: RateLimitResponse_RateLimit_Unit.MONTH,
  year: RateLimitResponse_RateLimit_Unit.YEAR,
};

/**
 * envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit, counted by the
 * same limiter as VerifyKey (Redis, fixed windows). Each descriptor is matched
 * against the rules; one carrying x-keyward-key-id without a rule limit is
 * held to that key's own limits, if the caller may verify that key. A rule in
 * shadow mode is counted and reported in the log but never refuses. Rule
 * counters belong to the calling root key (another service's Envoy does not
 * spend them), each rule creates a bounded number of them per window, and
 * every descriptor of a request is counted in one limiter call.
 */
export function createRatelimitService(deps: RatelimitServiceDeps): ServiceHandlers<typeof RateLimitService> {
  // Concurrent descriptors naming one key share one lookup; a key id that cannot be one costs none.
  const keyLimits = new LRUCache<string, { limits: readonly RatelimitPolicy[]; keyspaceId: string }>({
    max: 10_000,
    ttl: KEY_LIMITS_TTL_MS,
    fetchMethod: async (keyId) => {
      const record = await deps.keys.get(keyId).catch((error: unknown) => {
        // A damaged record has no limits anyone can read: the descriptor goes uncounted.
        if (error instanceof CorruptRecordError) return undefined;
        throw error;
      });
      return { limits: record?.ratelimits ?? [], keyspaceId: record?.keyspaceId ?? "" };
    },
  });
  const budget = new CounterBudget(deps.maxCountersPerRule);

  return {
    async shouldRateLimit(request, call) {
      const problem = descriptorRequestProblem(request);
      if (problem) throw new ConnectError(`${problem.field}: ${problem.message}`, Code.InvalidArgument);
      const config = deps.config;
      const now = deps.clock();
      const cost = request.hitsAddend || 1;
      const scope = deps.scopeOf(call.principal);
      const owner = call.principal?.keyId ?? "anonymous";
      const plans = await Promise.all(
        request.descriptors.map((descriptor) => {
          const match =
            config && request.domain === config.domain ? matchDescriptor(config, descriptor.entries) : undefined;
          return plan(match, descriptor, cost, now, owner, scope);
        }),
      );
      // Asked in one turn of the event loop, so the limiter counts them all in one call.
      const statuses = await Promise.all(plans.map((planned) => count(planned, now)));
      const over = statuses.some((entry) => entry.code === RateLimitResponse_Code.OVER_LIMIT);
      return {
        overallCode: over ? RateLimitResponse_Code.OVER_LIMIT : RateLimitResponse_Code.OK,
        statuses,
      };
    },
  };

  async function plan(
    match: DescriptorMatch | undefined,
    descriptor: RateLimitDescriptor,
    cost: number,
    now: number,
    owner: string,
    scope: VerifierScope,
  ): Promise<Plan> {
    if (!match || match.kind === "unlimited") return { kind: "unlimited" };
    if (match.kind === "limit") {
      // Envoy may send a limit of its own for the descriptor; it replaces the rule's.
      const override = descriptor.limit;
      const requests = override?.requestsPerUnit ?? match.requestsPerUnit;
      const unit = override ? (unitOf(override.unit) ?? match.unit) : match.unit;
      const windowStart = windowOf(now, UNIT_MS[unit]).start;
      const rule = `${owner}|${match.rule}`;
      const counter = budget.counterFor(rule, `${owner}|${match.counter}`, windowStart);
      const limits = [{ name: unit, limit: requests, durationMs: UNIT_MS[unit], cost }];
      return { kind: "count", subject: `rls:${counter}`, limits, shadowMode: match.shadowMode };
    }
    const own = await ownLimits(match.keyId, scope);
    if (own.length === 0) return { kind: "unlimited" };
    // Counters of their own: a request that ext_authz already counted in VerifyKey is not counted twice there.
    return {
      kind: "count",
      subject: `rls-key:${match.keyId}`,
      limits: limitsFor(own, [], cost),
      shadowMode: match.shadowMode,
    };
  }

  async function count(
    planned: Plan,
    now: number,
  ): Promise<MessageInitShape<typeof RateLimitResponse_DescriptorStatusSchema>> {
    if (planned.kind === "unlimited") return { code: RateLimitResponse_Code.OK };
    const { subject, limits, shadowMode } = planned;
    const results = await deps.limiter.consume(subject, limits, now);
    const tightest = tightestOf(results);
    const exceeded = results.some((result) => result.exceeded);
    if (exceeded && shadowMode) {
      deps.logger.info({ descriptor: subject }, "over the limit in shadow mode: allowed");
    }
    deps.metrics.ratelimit("envoy", !exceeded ? "allowed" : shadowMode ? "shadow" : "limited");
    return {
      code: exceeded && !shadowMode ? RateLimitResponse_Code.OVER_LIMIT : RateLimitResponse_Code.OK,
      currentLimit: {
        name: tightest.name,
        requestsPerUnit: tightest.limit,
        unit: unitFor(limits.find((limit) => limit.name === tightest.name)?.durationMs ?? 0),
      },
      limitRemaining: tightest.remaining,
      durationUntilReset: durationFromMs(Math.max(0, tightest.resetAt - now)),
    };
  }

  /** The key's own limits, when the caller may verify keys of its keyspace; otherwise none. */
  async function ownLimits(keyId: string, scope: VerifierScope): Promise<readonly RatelimitPolicy[]> {
    if (!KEY_ID_PATTERN.test(keyId)) return [];
    const known = await keyLimits.fetch(keyId);
    return known && known.keyspaceId !== "" && scope(known.keyspaceId) ? known.limits : [];
  }
}

/** The limit a descriptor status reports: the one refusing, or the one with least room. */
function tightestOf(results: readonly LimitResult[]): LimitResult {
  return results.reduce((tightest, result) =>
    result.exceeded !== tightest.exceeded
      ? result.exceeded
        ? result
        : tightest
      : result.remaining < tightest.remaining
        ? result
        : tightest,
  );
}

function unitFor(durationMs: number): RateLimitResponse_RateLimit_Unit {
  const unit = (Object.keys(UNIT_MS) as RateUnit[]).find((name) => UNIT_MS[name] === durationMs);
  return unit ? UNITS[unit] : RateLimitResponse_RateLimit_Unit.UNKNOWN;
}

function unitOf(unit: number): RateUnit | undefined {
  return (Object.keys(UNITS) as RateUnit[]).find((name) => UNITS[name] === unit);
}
