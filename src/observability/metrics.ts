import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { HotCounter, HotHistogram } from "./hot-metrics.js";

/** Where a key lookup was answered. */
export type CacheLayer = "local" | "shared" | "store";
/** What a rate limit decided: let through, refused, or over but let through (shadow mode). */
export type RatelimitDecision = "allowed" | "limited" | "shadow";

/**
 * Keyward's Prometheus metrics (prom-client), served at /metrics. Those
 * touched on every call are hot metrics (hot-metrics.ts), which cost a few
 * additions each; the rest are prom-client's own.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly rpcDuration = new HotHistogram(
    "keyward_rpc_duration_seconds",
    "Time to answer a call, by method and gRPC code.",
    ["method", "code"],
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    this.registry,
  );
  private readonly verifications = new HotCounter(
    "keyward_verifications_total",
    "Verifications (VerifyKey and Envoy's Check) by outcome.",
    ["code"],
    this.registry,
  );
  private readonly cacheLookups = new HotCounter(
    "keyward_cache_lookups_total",
    "Key lookups by the layer that answered them: local (this process), shared (Redis) or store (MongoDB).",
    ["layer"],
    this.registry,
  );
  private readonly ratelimitDecisions = new HotCounter(
    "keyward_ratelimit_decisions_total",
    "Rate-limit decisions by source (verify: VerifyKey and Check; envoy: the rate-limit service).",
    ["source", "decision"],
    this.registry,
  );
  /** "rateLimited" → "RATE_LIMITED", worked out once per outcome. */
  private readonly codeLabels = new Map<string, string>();
  private readonly redisRejections = new Counter({
    name: "keyward_redis_rejected_values_total",
    help: "Values read back from Redis that failed authentication and were ignored, by kind (cache, message).",
    labelNames: ["kind"],
    registers: [this.registry],
  });
  private readonly creditWrites = new Counter({
    name: "keyward_credit_writes_total",
    help: "Credit writes sent to the key store, by operation: spend (a key spent now and then), lease (taking or renewing a block of credits), return (giving a lease back).",
    labelNames: ["operation"],
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

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  rpc(method: string, code: string, seconds: number): void {
    this.rpcDuration.observe(seconds, method, code);
  }

  /** Counts a verification by its outcome ("rateLimited" is labelled RATE_LIMITED, as the API names it). */
  verification(status: string): void {
    let label = this.codeLabels.get(status);
    if (label === undefined) {
      label = constantCase(status);
      this.codeLabels.set(status, label);
    }
    this.verifications.inc(label);
  }

  cacheLookup(layer: CacheLayer): void {
    this.cacheLookups.inc(layer);
  }

  ratelimit(source: "verify" | "envoy", decision: RatelimitDecision): void {
    this.ratelimitDecisions.inc(source, decision);
  }

  redisRejected(kind: "cache" | "message"): void {
    this.redisRejections.labels(kind).inc();
  }

  creditWrite(operation: "spend" | "lease" | "return"): void {
    this.creditWrites.labels(operation).inc();
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
}

/** "rateLimited" → "RATE_LIMITED". */
function constantCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase();
}
