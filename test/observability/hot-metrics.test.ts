import { Counter, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { HotCounter, HotHistogram } from "../../src/observability/hot-metrics.js";

const BUCKETS = [0.001, 0.01, 0.1];

/** /metrics as Prometheus reads it, for a registry. */
async function exposition(registry: Registry): Promise<string> {
  return registry.metrics();
}

describe("hot metrics", () => {
  it("print exactly what prom-client's Histogram prints for the same observations", async () => {
    const [ours, theirs] = [new Registry(), new Registry()];
    const hot = new HotHistogram("t_seconds", "help", ["method", "code"], BUCKETS, ours);
    const reference = new Histogram({
      name: "t_seconds",
      help: "help",
      labelNames: ["method", "code"],
      buckets: BUCKETS,
      registers: [theirs],
    });
    for (const [value, method, code] of [
      [0.0005, "a/B", "OK"],
      [0.001, "a/B", "OK"],
      [0.05, "a/B", "NOT_FOUND"],
      [7, "c/D", "OK"],
      [0.01, "a/B", "OK"],
    ] as const) {
      hot.observe(value, method, code);
      reference.labels(method, code).observe(value);
    }
    expect(await exposition(ours)).toBe(await exposition(theirs));
  });

  it("print exactly what prom-client's Counter prints for the same increments", async () => {
    const [ours, theirs] = [new Registry(), new Registry()];
    const hot = new HotCounter("t_total", "help", ["source", "decision"], ours);
    const reference = new Counter({
      name: "t_total",
      help: "help",
      labelNames: ["source", "decision"],
      registers: [theirs],
    });
    for (const [source, decision] of [
      ["verify", "allowed"],
      ["verify", "allowed"],
      ["envoy", "limited"],
    ] as const) {
      hot.inc(source, decision);
      reference.labels(source, decision).inc();
    }
    expect(await exposition(ours)).toBe(await exposition(theirs));
  });
});
