import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditEventRecord } from "../../src/audit/audit-event.js";
import type { AuditEvents } from "../../src/ports/audit-events.js";

export interface AuditStoreUnderTest {
  readonly store: AuditEvents;
  cleanup(): Promise<void>;
}

let sequence = 0;
function sampleEvent(overrides: Partial<AuditEventRecord> = {}): AuditEventRecord {
  sequence += 1;
  return {
    eventId: `evt_01TEST${String(sequence).padStart(20, "0")}`,
    time: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, sequence)),
    actorKeyId: "key_01ACTOR00000000000000000000",
    action: "CreateKey",
    keyspaceId: "default",
    keyId: "",
    outcome: "OK",
    peer: "127.0.0.1:5000",
    requestId: `req-${sequence}`,
    count: 1,
    ...overrides,
  };
}

/** The behaviour every AuditEvents adapter must show. */
export function auditStoreContract(adapter: string, open: () => Promise<AuditStoreUnderTest>): void {
  describe(`AuditEvents contract: ${adapter}`, () => {
    let subject: AuditStoreUnderTest;
    let store: AuditEvents;
    beforeAll(async () => {
      subject = await open();
      store = subject.store;
    });
    afterAll(() => subject.cleanup());

    it("lists appended events newest first, exactly as they were appended", async () => {
      const keyspaceId = `ks-${sequence}`;
      const events = [sampleEvent({ keyspaceId }), sampleEvent({ keyspaceId }), sampleEvent({ keyspaceId })];
      for (const event of events) await store.append(event);
      expect(await store.list({ keyspaces: { in: [keyspaceId] }, limit: 10 })).toEqual([...events].reverse());
    });

    it("lists events in id order even when they arrive out of it (appendMany and append alike)", async () => {
      const keyspaceId = `ks-${sequence}`;
      const [a, b, c, d] = [1, 2, 3, 4].map(() => sampleEvent({ keyspaceId })) as AuditEventRecord[];
      await store.append(c as AuditEventRecord);
      await store.appendMany([d as AuditEventRecord, a as AuditEventRecord]);
      await store.append(b as AuditEventRecord);
      const listed = await store.list({ keyspaces: { in: [keyspaceId] }, limit: 10 });
      expect(listed.map((event) => event.eventId)).toEqual([d, c, b, a].map((event) => event?.eventId));
    });

    it("filters by keyspace, actor, action, key and time, and pages backwards", async () => {
      const keyspaceId = `ks-${sequence}`;
      const a = sampleEvent({ keyspaceId, action: "CreateKey", keyId: "key_A" });
      const b = sampleEvent({ keyspaceId, action: "RevokeKey", keyId: "key_A", outcome: "PERMISSION_DENIED" });
      const c = sampleEvent({ keyspaceId, action: "RevokeKey", keyId: "key_B", actorKeyId: "key_01OTHER" });
      for (const event of [a, b, c]) await store.append(event);
      const ids = (list: AuditEventRecord[]) => list.map((event) => event.eventId);
      expect(ids(await store.list({ keyspaces: { in: [keyspaceId] }, action: "RevokeKey", limit: 10 }))).toEqual([
        c.eventId,
        b.eventId,
      ]);
      expect(ids(await store.list({ keyspaces: { in: [keyspaceId] }, keyId: "key_A", limit: 10 }))).toEqual([
        b.eventId,
        a.eventId,
      ]);
      expect(ids(await store.list({ keyspaces: { in: [keyspaceId] }, actorKeyId: "key_01OTHER", limit: 10 }))).toEqual([
        c.eventId,
      ]);
      expect(
        ids(await store.list({ keyspaces: { in: [keyspaceId] }, from: b.time, until: c.time, limit: 10 })),
      ).toEqual([b.eventId]);
      expect(ids(await store.list({ keyspaces: { in: [keyspaceId] }, limit: 2 }))).toEqual([c.eventId, b.eventId]);
      expect(ids(await store.list({ keyspaces: { in: [keyspaceId] }, beforeEventId: b.eventId, limit: 2 }))).toEqual([
        a.eventId,
      ]);
    });

    it("appends several events in one write, each with how many calls it stands for", async () => {
      const actorKeyId = `key_01MANY${sequence}`;
      const summed = sampleEvent({ actorKeyId, peer: "10.0.0.7", count: 2_000, outcome: "UNAUTHENTICATED" });
      const single = sampleEvent({ actorKeyId });
      await store.appendMany([summed, single]);
      await store.appendMany([]);
      expect(await store.list({ actorKeyId, limit: 10 })).toEqual([single, summed]);
    });

    it("keeps keyspaces a filter excludes out of a listing", async () => {
      const actorKeyId = `key_01FILTER${sequence}`;
      const kept = sampleEvent({ actorKeyId, keyspaceId: "billing" });
      const hidden = sampleEvent({ actorKeyId, keyspaceId: "root" });
      for (const event of [kept, hidden]) await store.append(event);
      expect(await store.list({ actorKeyId, keyspaces: { notIn: ["root"] }, limit: 10 })).toEqual([kept]);
    });
  });
}
