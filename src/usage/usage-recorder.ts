import { randomBytes } from "node:crypto";
import type { UsageCounts, UsageOutcome } from "../keys/key-record.js";
import type { Logger } from "../observability/logger.js";
import type { UsageSink, UsageUpdate } from "../ports/usage-sink.js";

/** Keys with unwritten usage beyond this are dropped (and logged) rather than let memory grow without end. */
const MAX_PENDING_KEYS = 100_000;

/**
 * Counts verifications by key and outcome in memory and writes them to the
 * key store in one batch every interval, never one write per verification.
 * Every batch has an id; a batch that fails is retried unchanged, with the
 * same id, before anything newer is written, and the store applies a batch id
 * once per key: a write that failed after part of it was applied (or with no
 * way to tell) is never counted twice. What is lost if the process dies: at
 * most one interval of counts, and a batch still failing at stop.
 */
export class UsageRecorder {
  private pending = new Map<string, { counts: UsageCounts; lastUsedAt?: Date }>();
  /** A batch whose write failed; the store may hold any part of it. */
  private unconfirmed: readonly UsageUpdate[] | undefined;
  private timer?: NodeJS.Timeout;
  private flushing = Promise.resolve();

  constructor(
    private readonly store: UsageSink,
    private readonly logger: Logger,
    private readonly intervalMs: number,
    private readonly newBatchId: () => string = () => randomBytes(9).toString("base64url"),
  ) {}

  record(keyId: string, outcome: UsageOutcome, now: number): void {
    let entry = this.pending.get(keyId);
    if (!entry) {
      if (this.pending.size >= MAX_PENDING_KEYS) return;
      entry = { counts: {} };
      this.pending.set(keyId, entry);
    }
    entry.counts[outcome] = (entry.counts[outcome] ?? 0) + 1;
    if (outcome === "valid") entry.lastUsedAt = new Date(now);
  }

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.intervalMs);
    this.timer.unref();
  }

  /** Writes what has been counted; resolves when it is stored (or kept for the next try). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.writeBatches());
    return this.flushing;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    if (this.unconfirmed) {
      this.logger.error({ keys: this.unconfirmed.length }, "usage counts could not be written before stopping");
    }
  }

  private async writeBatches(): Promise<void> {
    if (this.unconfirmed && !(await this.write(this.unconfirmed))) return;
    this.unconfirmed = undefined;
    if (this.pending.size === 0) return;
    const batchId = this.newBatchId();
    const batch = [...this.pending].map(([keyId, entry]) => ({ keyId, batchId, ...entry }));
    this.pending = new Map();
    if (!(await this.write(batch))) this.unconfirmed = batch;
  }

  /** Answers whether the store took the batch. */
  private async write(batch: readonly UsageUpdate[]): Promise<boolean> {
    try {
      await this.store.recordUsage(batch);
      return true;
    } catch (error) {
      this.logger.warn(
        { err: error, keys: batch.length },
        "usage write-back failed; retrying the same batch next time",
      );
      return false;
    }
  }
}
