import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** Where a key lookup was answered. */
export type CacheLayer = "local" | "shared" | "store";
/** What a rate limit decided: let through, refused, or over but let through (shadow mode). */
export type RatelimitDecision = "allowed" | "limited" | "shadow";

/**
 * Keyward's Prometheus metrics (prom-client), served at /metrics. Label
 * children are made once and kept, because several of these are touched on
 * every verification.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly rpcDuration = new Histogram({
    name: "keyward_rpc_duration_seconds",
    help: "Time to answer a call, by method and gRPC code.",
    labelNames: ["method", "code"],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  private readonly verifications = new Counter({
    name: "keyward_verifications_total",
    help: "Verifications (VerifyKey and Envoy's Check) by outcome.",
    labelNames: ["code"],
    registers: [this.registry],
  });
  private readonly cacheLookups = new Counter({
    name: "keyward_cache_lookups_total",
    help: "Key lookups by the layer that answered them: local (this process), shared (Redis) or store (MongoDB).",
    labelNames: ["layer"],
    registers: [this.registry],
  });
  private readonly ratelimitDecisions = new Counter({
    name: "keyward_ratelimit_decisions_total",
    help: "Rate-limit decisions by source (verify: VerifyKey and Check; envoy: the rate-limit service).",
    labelNames: ["source", "decision"],
    registers: [this.registry],
  });
  private readonly redisRejections = new Counter({
    name: "keyward_redis_rejected_values_total",
    help: "Values read back from Redis that failed authentication and were ignored, by kind (cache, message).",
    labelNames: ["kind"],
    registers: [this.registry],
  });
  private readonly dependencyUp = new Gauge({
    name: "keyward_dependency_up",
    help: "1 when the dependency answered its last health check, 0 when it did not.",
    labelNames: ["dependency"],
    registers: [this.registry],
  });
  private readonly dependencyLatency = new Histogram({
    name: "keyward_dependency_ping_seconds",
    help: "Time a dependency took to answer a health check.",
    labelNames: ["dependency"],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  private readonly children = new Map<string, { inc(): void } | { observe(value: number): void }>();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  rpc(method: string, code: string, seconds: number): void {
    this.child(`rpc|${method}|${code}`, () => this.rpcDuration.labels(method, code)).observe(seconds);
  }

  /** Counts a verification by its outcome ("rateLimited" is labelled RATE_LIMITED, as the API names it). */
  verification(status: string): void {
    this.child(`verification|${status}`, () => this.verifications.labels(constantCase(status))).inc();
  }

  cacheLookup(layer: CacheLayer): void {
    this.child(`cache|${layer}`, () => this.cacheLookups.labels(layer)).inc();
  }

  ratelimit(source: "verify" | "envoy", decision: RatelimitDecision): void {
    this.child(`ratelimit|${source}|${decision}`, () => this.ratelimitDecisions.labels(source, decision)).inc();
  }

  redisRejected(kind: "cache" | "message"): void {
    this.child(`redis-rejected|${kind}`, () => this.redisRejections.labels(kind)).inc();
  }

  /** Reports, at each scrape, what the in-process key cache holds by its own estimate (KEYWARD_CACHE_MAX_BYTES bounds it). */
  watchCacheBytes(read: () => number): void {
    new Gauge({
      name: "keyward_cache_bytes",
      help: "Estimated memory of this process's key cache, answers and encodings made from its keys included.",
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  dependency(name: string, up: boolean, seconds: number): void {
    this.dependencyUp.labels(name).set(up ? 1 : 0);
    this.dependencyLatency.labels(name).observe(seconds);
  }

  private child<T extends object>(key: string, make: () => T): T {
    let child = this.children.get(key) as T | undefined;
    if (!child) {
      child = make();
      this.children.set(key, child as never);
    }
    return child;
  }
}

/** "rateLimited" → "RATE_LIMITED". */
function constantCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase();
}
