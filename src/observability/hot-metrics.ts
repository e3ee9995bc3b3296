import type { Metric, Registry } from "prom-client";

/**
 * Counters and histograms for the metrics touched on every call. prom-client's
 * own `inc` and `observe` build a label object and a hash string each time (a
 * few per cent of a cache hit's CPU, and garbage to collect); these keep plain
 * numbers per label set, found through two maps, and hand them to prom-client
 * only when /metrics is read. One or two labels.
 */
abstract class HotMetric<S> {
  private readonly children = new Map<string, Map<string, S>>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly [string] | readonly [string, string],
    registry: Registry,
  ) {
    // prom-client formats any object with a name, help, type and get(); its type names only its own classes.
    registry.registerMetric(this as unknown as Metric);
  }

  abstract readonly type: "counter" | "histogram";
  protected abstract newSeries(): S;

  /** The series of a label set, made on first use. */
  protected series(first: string, second = ""): S {
    let inner = this.children.get(first);
    if (!inner) {
      inner = new Map();
      this.children.set(first, inner);
    }
    let series = inner.get(second);
    if (!series) {
      series = this.newSeries();
      inner.set(second, series);
    }
    return series;
  }

  protected *labelled(): Generator<[Record<string, string>, S]> {
    const [firstName, secondName] = this.labelNames;
    for (const [first, inner] of this.children) {
      for (const [second, series] of inner) {
        yield [
          secondName === undefined ? { [firstName]: first } : { [firstName]: first, [secondName]: second },
          series,
        ];
      }
    }
  }
}

export class HotCounter extends HotMetric<{ value: number }> {
  readonly type = "counter";

  protected newSeries() {
    return { value: 0 };
  }

  inc(first: string, second?: string): void {
    this.series(first, second).value += 1;
  }

  get() {
    const values = [...this.labelled()].map(([labels, { value }]) => ({ labels, value }));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: "sum" };
  }
}

interface HistogramSeries {
  /** Per bucket (the last is +Inf), not cumulative. */
  readonly counts: number[];
  sum: number;
  count: number;
}

export class HotHistogram extends HotMetric<HistogramSeries> {
  readonly type = "histogram";

  constructor(
    name: string,
    help: string,
    labelNames: readonly [string] | readonly [string, string],
    private readonly buckets: readonly number[],
    registry: Registry,
  ) {
    super(name, help, labelNames, registry);
  }

  protected newSeries(): HistogramSeries {
    return { counts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0, count: 0 };
  }

  observe(value: number, first: string, second?: string): void {
    const series = this.series(first, second);
    let bucket = 0;
    while (bucket < this.buckets.length && value > (this.buckets[bucket] as number)) bucket++;
    series.counts[bucket] = (series.counts[bucket] as number) + 1;
    series.sum += value;
    series.count += 1;
  }

  /** As prom-client's Histogram reports: cumulative buckets (`le`, ending with +Inf), then sum and count. */
  get() {
    const values = [];
    for (const [labels, { counts, sum, count }] of this.labelled()) {
      let cumulative = 0;
      for (const [i, inBucket] of counts.entries()) {
        cumulative += inBucket;
        const le = i < this.buckets.length ? (this.buckets[i] as number) : "+Inf";
        values.push({ labels: { le, ...labels }, value: cumulative, metricName: `${this.name}_bucket` });
      }
      values.push({ labels, value: sum, metricName: `${this.name}_sum` });
      values.push({ labels, value: count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: "sum" };
  }
}
