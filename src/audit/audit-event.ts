/**
 * One management call, as the audit log keeps it; or, for calls refused
 * before authentication, one caller address, method and outcome over an
 * interval, summed up. Never holds a secret.
 */
export interface AuditEventRecord {
  eventId: string;
  /** When the call was made; for a summed-up event, when its first call was. */
  time: Date;
  /** The root key that made the call; empty when it did not authenticate. */
  actorKeyId: string;
  /** The method called, e.g. "CreateKey". */
  action: string;
  keyspaceId: string;
  keyId: string;
  /** "OK" or the gRPC code name the call failed with. */
  outcome: string;
  /** The caller's address; for a summed-up event without the port, or "*" for addresses beyond those tracked. */
  peer: string;
  requestId: string;
  /** How many calls the event stands for: 1 for a single call. */
  count: number;
}
