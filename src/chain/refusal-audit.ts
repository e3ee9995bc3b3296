import type { AuditEventRecord } from "../audit/audit-event.js";
import type { Logger } from "../observability/logger.js";
import type { AuditEvents } from "../ports/audit-events.js";

/** A call refused before its caller authenticated (no valid root key, or too many failures from its address). */
export interface Refusal {
  /** The caller's address, without the port. */
  readonly address: string;
  readonly action: string;
  readonly outcome: string;
  readonly time: Date;
  readonly requestId: string;
}

/** Addresses summed up per interval, at most; refusals from more are folded into one group per method and outcome. */
export const MAX_REFUSAL_GROUPS = 1_000;
/** The peer of the folded groups: the addresses beyond those tracked. */
export const OTHER_ADDRESSES = "*";
/** `count` is a uint32 on the wire. */
const MAX_COUNT = 0xffff_ffff;

/**
 * Sums up refusals before authentication instead of writing one audit event
 * each, so that callers without a root key cannot fill the audit log or keep
 * its store busy: one event per address, method and outcome per interval,
 * saying how many calls it stands for, all written in one batch. Memory is
 * bounded: past `maxGroups` addresses, the rest share one group per method
 * and outcome (peer "*"). Stopping writes what is held, so a clean shutdown
 * loses nothing.
 */
export class RefusalAudit {
  private groups = new Map<string, AuditEventRecord>();
  private timer?: NodeJS.Timeout;
  private flushing = Promise.resolve();

  constructor(
    private readonly options: {
      readonly audit: Pick<AuditEvents, "appendMany">;
      readonly logger: Logger;
      readonly intervalMs: number;
      /** An event id for an event at this time (ids sort by time). */
      readonly newEventId: (time: number) => string;
      readonly maxGroups?: number | undefined;
    },
  ) {}

  record({ address, action, outcome, time, requestId }: Refusal): void {
    let peer = address;
    let group = this.groups.get(`${peer}|${action}|${outcome}`);
    if (!group && this.groups.size >= (this.options.maxGroups ?? MAX_REFUSAL_GROUPS)) {
      peer = OTHER_ADDRESSES;
      group = this.groups.get(`${peer}|${action}|${outcome}`);
    }
    if (group) {
      group.count = Math.min(group.count + 1, MAX_COUNT);
      return;
    }
    this.groups.set(`${peer}|${action}|${outcome}`, {
      eventId: this.options.newEventId(time.getTime()),
      time,
      actorKeyId: "",
      action,
      keyspaceId: "",
      keyId: "",
      outcome,
      peer,
      requestId,
      count: 1,
    });
  }

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.options.intervalMs);
    this.timer.unref();
  }

  /** Writes the groups summed up so far, in one batch; resolves when written (or logged, if the store failed). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private async write(): Promise<void> {
    if (this.groups.size === 0) return;
    const events = [...this.groups.values()];
    this.groups = new Map();
    await this.options.audit.appendMany(events).catch((error: unknown) => {
      // Not retried (memory stays bounded); the events hold no secret, so the log keeps them instead.
      this.options.logger.error({ err: error, auditEvents: events }, "audit events could not be stored");
    });
  }
}
