/** One management call, as the audit log keeps it. Never holds a secret. */
export interface AuditEventRecord {
  eventId: string;
  time: Date;
  /** The root key that made the call; empty when it did not authenticate. */
  actorKeyId: string;
  /** The method called, e.g. "CreateKey". */
  action: string;
  keyspaceId: string;
  keyId: string;
  /** "OK" or the gRPC code name the call failed with. */
  outcome: string;
  peer: string;
  requestId: string;
}
