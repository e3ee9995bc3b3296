import type { UsageCounts, UsageOutcome } from "../keys/key-record.js";
import type { Logger } from "../logger.js";
import type { KeyStore, UsageUpdate } from "../store/key-store.js";

/** Keys with unwritten usage beyond this are dropped (and logged) rather than let memory grow without end. */
const MAX_PENDING_KEYS = 100_000;

/**
 * Counts verifications by key and outcome in memory and writes them to the
 * key store in one batch every interval, never one write per verification.
 * A batch that fails is merged back and retried with the next one. What is
 * lost if the process dies: at most one interval of counts.
 */
export class UsageRecorder {
  private pending = new Map<string, { counts: UsageCounts; lastUsedAt?: Date }>();
  private timer?: NodeJS.Timeout;
  private flushing = Promise.resolve();

  constructor(
    private readonly store: Pick<KeyStore, "recordUsage">,
    private readonly logger: Logger,
    private readonly intervalMs: number,
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

  /** Writes what has been counted; resolves when it is stored (or put back for the next try). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.writeBatch());
    return this.flushing;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private async writeBatch(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const updates: UsageUpdate[] = [...batch].map(([keyId, entry]) => ({ keyId, ...entry }));
    try {
      await this.store.recordUsage(updates);
    } catch (error) {
      this.logger.warn({ err: error, keys: updates.length }, "usage write-back failed; retrying with the next batch");
      for (const update of updates) this.mergeBack(update);
    }
  }

  private mergeBack({ keyId, counts, lastUsedAt }: UsageUpdate): void {
    const entry = this.pending.get(keyId) ?? { counts: {} };
    for (const [outcome, count] of Object.entries(counts) as [UsageOutcome, number][]) {
      entry.counts[outcome] = (entry.counts[outcome] ?? 0) + count;
    }
    if (lastUsedAt && (!entry.lastUsedAt || lastUsedAt > entry.lastUsedAt)) entry.lastUsedAt = lastUsedAt;
    this.pending.set(keyId, entry);
  }
}
