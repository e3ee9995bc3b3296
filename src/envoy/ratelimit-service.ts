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
import { may, mayAnywhere } from "../auth/principal.js";
import type { Clock } from "../keys/clock.js";
import type { RatelimitPolicy } from "../keys/key-record.js";
import type { Logger } from "../logger.js";
import type { Metrics } from "../metrics/metrics.js";
import {
  type DescriptorConfig,
  type DescriptorMatch,
  matchDescriptor,
  type RateUnit,
  UNIT_MS,
} from "../ratelimit/descriptor-rules.js";
import { type LimitRequest, type LimitResult, limitsFor } from "../ratelimit/limits.js";
import type { Call, ServiceHandlers } from "../rpc/call.js";
import type { KeyStore } from "../store/key-store.js";
import type { RateLimiter } from "../store/rate-limiter.js";

export interface RatelimitServiceDeps {
  /** The rules (KEYWARD_RATELIMIT_CONFIG); without them every descriptor is unlimited. */
  readonly config?: DescriptorConfig;
  readonly limiter: RateLimiter;
  readonly keys: Pick<KeyStore, "get">;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Pick<Metrics, "ratelimit">;
}

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
 * held to that key's own limits. A rule in shadow mode is counted and
 * reported in the log but never refuses.
 */
export function createRatelimitService(deps: RatelimitServiceDeps): ServiceHandlers<typeof RateLimitService> {
  const keyLimits = new LRUCache<string, { limits: readonly RatelimitPolicy[]; keyspaceId: string }>({
    max: 10_000,
    ttl: KEY_LIMITS_TTL_MS,
  });

  return {
    async shouldRateLimit(request, call) {
      if (call.principal && !mayAnywhere(call.principal, "verify_key")) {
        throw new ConnectError("permission denied", Code.PermissionDenied);
      }
      const config = deps.config;
      const now = deps.clock();
      const cost = request.hitsAddend || 1;
      const statuses = await Promise.all(
        request.descriptors.map(async (descriptor) => {
          const match =
            config && request.domain === config.domain ? matchDescriptor(config, descriptor.entries) : undefined;
          return status(match, descriptor, cost, now, call);
        }),
      );
      const over = statuses.some((entry) => entry.code === RateLimitResponse_Code.OVER_LIMIT);
      return {
        overallCode: over ? RateLimitResponse_Code.OVER_LIMIT : RateLimitResponse_Code.OK,
        statuses,
      };
    },
  };

  async function status(
    match: DescriptorMatch | undefined,
    descriptor: RateLimitDescriptor,
    cost: number,
    now: number,
    call: Call,
  ): Promise<MessageInitShape<typeof RateLimitResponse_DescriptorStatusSchema>> {
    if (!match || match.kind === "unlimited") return { code: RateLimitResponse_Code.OK };
    let limits: LimitRequest[];
    let subject: string;
    if (match.kind === "limit") {
      // Envoy may send a limit of its own for the descriptor; it replaces the rule's.
      const override = descriptor.limit;
      const requests = override?.requestsPerUnit ?? match.requestsPerUnit;
      const unit = override ? (unitOf(override.unit) ?? match.unit) : match.unit;
      subject = `rls:${match.counter}`;
      limits = [{ name: unit, limit: requests, durationMs: UNIT_MS[unit], cost }];
    } else {
      const own = await ownLimits(match.keyId, call);
      if (own.length === 0) return { code: RateLimitResponse_Code.OK };
      // Counters of their own: a request that ext_authz already counted in VerifyKey is not counted twice there.
      subject = `rls-key:${match.keyId}`;
      limits = limitsFor(own, [], cost);
    }
    const results = await deps.limiter.consume(subject, limits, now);
    const tightest = tightestOf(results);
    const exceeded = results.some((result) => result.exceeded);
    if (exceeded && match.shadowMode) {
      deps.logger.info({ descriptor: subject }, "over the limit in shadow mode: allowed");
    }
    deps.metrics.ratelimit("envoy", !exceeded ? "allowed" : match.shadowMode ? "shadow" : "limited");
    return {
      code: exceeded && !match.shadowMode ? RateLimitResponse_Code.OVER_LIMIT : RateLimitResponse_Code.OK,
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
  async function ownLimits(keyId: string, call: Call): Promise<readonly RatelimitPolicy[]> {
    let known = keyLimits.get(keyId);
    if (!known) {
      const record = await deps.keys.get(keyId);
      known = { limits: record?.ratelimits ?? [], keyspaceId: record?.keyspaceId ?? "" };
      keyLimits.set(keyId, known);
    }
    if (call.principal && !may(call.principal, "verify_key", known.keyspaceId)) return [];
    return known.limits;
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
