import { ulid } from "ulid";
import { describe, expect, it } from "vitest";
import { MemoryAuditEvents } from "../../src/adapters/memory/memory-audit-events.js";
import type { AuditEventRecord } from "../../src/audit/audit-event.js";
import { MAX_REFUSAL_GROUPS, OTHER_ADDRESSES, RefusalAudit } from "../../src/chain/refusal-audit.js";
import { createLogger } from "../../src/observability/logger.js";
import type { AuditEvents } from "../../src/ports/audit-events.js";

const START = Date.UTC(2026, 0, 1);

/** The memory audit store, with its writes counted. */
function countedStore(): { store: AuditEvents; writes: AuditEventRecord[][] } {
  const inner = new MemoryAuditEvents();
  const writes: AuditEventRecord[][] = [];
  return {
    writes,
    store: {
      append: (event) => {
        writes.push([event]);
        return inner.append(event);
      },
      appendMany: (events) => {
        writes.push([...events]);
        return inner.appendMany(events);
      },
      list: (query) => inner.list(query),
    },
  };
}

function refusalAudit(audit: Pick<AuditEvents, "appendMany">, lines: string[] = [], maxGroups?: number) {
  return new RefusalAudit({
    audit,
    logger: createLogger("info", { write: (line: string) => void lines.push(line) }),
    intervalMs: 60_000,
    newEventId: (time) => `evt_${ulid(time)}`,
    maxGroups,
  });
}

const refusal = (address: string, i: number, outcome = "UNAUTHENTICATED") => ({
  address,
  action: "ListKeys",
  outcome,
  time: new Date(START + i),
  requestId: `req-${i}`,
});

describe("refusals before authentication", () => {
  it("issue 9 item 7: are summed up per address, method and outcome, and written in one write", async () => {
    const { store, writes } = countedStore();
    const audit = refusalAudit(store);
    for (let i = 0; i < 1_000; i++) audit.record(refusal(i % 2 === 0 ? "10.0.0.1" : "10.0.0.2", i));
    audit.record(refusal("10.0.0.1", 1_000, "RESOURCE_EXHAUSTED"));
    audit.record({ ...refusal("10.0.0.1", 1_001), action: "CreateKey" });
    expect(writes).toEqual([]);
    await audit.flush();
    expect(writes).toHaveLength(1);
    const events = await store.list({ limit: 100 });
    expect(events.map(({ peer, action, outcome, count }) => ({ peer, action, outcome, count }))).toEqual(
      expect.arrayContaining([
        { peer: "10.0.0.1", action: "ListKeys", outcome: "UNAUTHENTICATED", count: 500 },
        { peer: "10.0.0.2", action: "ListKeys", outcome: "UNAUTHENTICATED", count: 500 },
        { peer: "10.0.0.1", action: "ListKeys", outcome: "RESOURCE_EXHAUSTED", count: 1 },
        { peer: "10.0.0.1", action: "CreateKey", outcome: "UNAUTHENTICATED", count: 1 },
      ]),
    );
    expect(events).toHaveLength(4);
    // Each event is dated and named by its first call.
    const first = events.find((event) => event.peer === "10.0.0.1" && event.count === 500);
    expect(first).toMatchObject({ time: new Date(START), requestId: "req-0", actorKeyId: "", keyspaceId: "" });
    expect(first?.eventId.slice(4, 14)).toBe(ulid(START).slice(0, 10)); // a ULID's time part
    await audit.flush();
    expect(writes).toHaveLength(1); // nothing new, nothing written
  });

  it("issue 9 item 7: a flood from ever new addresses does not grow memory: past the cap they share one group", async () => {
    const { store } = countedStore();
    const audit = refusalAudit(store, [], 100);
    for (let i = 0; i < 100_000; i++) audit.record(refusal(`fd00::${i.toString(16)}`, i));
    await audit.stop();
    const events = await store.list({ limit: 1_000 });
    expect(events).toHaveLength(101);
    expect(events.filter((event) => event.peer === OTHER_ADDRESSES)).toMatchObject([{ count: 100_000 - 100 }]);
    expect(events.reduce((sum, event) => sum + event.count, 0)).toBe(100_000);
    expect(MAX_REFUSAL_GROUPS).toBeLessThanOrEqual(10_000);
  });

  it("issue 9 item 7: are written when stopping, so a clean shutdown loses none", async () => {
    const { store, writes } = countedStore();
    const audit = refusalAudit(store);
    audit.start();
    audit.record(refusal("10.0.0.1", 0));
    await audit.stop();
    expect(writes).toHaveLength(1);
    expect(await store.list({ limit: 10 })).toMatchObject([{ peer: "10.0.0.1", count: 1 }]);
  });

  it("are logged in full when the store cannot take them", async () => {
    const lines: string[] = [];
    const audit = refusalAudit({ appendMany: () => Promise.reject(new Error("store down")) }, lines);
    audit.record(refusal("10.0.0.1", 0));
    audit.record(refusal("10.0.0.1", 1));
    await audit.stop();
    expect(lines.map((line) => JSON.parse(line))).toMatchObject([
      { msg: "audit events could not be stored", auditEvents: [{ peer: "10.0.0.1", count: 2 }] },
    ]);
  });
});
