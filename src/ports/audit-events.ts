import type { AuditEventRecord } from "../audit/audit-event.js";
import type { KeyspaceFilter } from "./keyspace-filter.js";

/** Which audit events ListAuditEvents wants; empty fields match everything. */
export interface AuditQuery {
  readonly keyspaces?: KeyspaceFilter | undefined;
  readonly actorKeyId?: string | undefined;
  readonly action?: string | undefined;
  readonly keyId?: string | undefined;
  /** Events at or after this instant. */
  readonly from?: Date | undefined;
  /** Events before this instant. */
  readonly until?: Date | undefined;
  /** Only events older than this one (the page token). */
  readonly beforeEventId?: string | undefined;
  readonly limit: number;
}

/** How long the audit log keeps events. */
export interface AuditRetention {
  /** Events older than this many days are removed; 0 keeps them for ever. */
  readonly retentionDays: number;
}

/** Where the audit log lives. Events are only ever appended, and removed once past the retention. */
export interface AuditEvents {
  append(event: AuditEventRecord): Promise<void>;
  /** Appends several events in one write. */
  appendMany(events: readonly AuditEventRecord[]): Promise<void>;
  /** Events matching the query, newest first. */
  list(query: AuditQuery): Promise<AuditEventRecord[]>;
}
