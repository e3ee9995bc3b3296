import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KeyspaceRecord } from "../../src/keyspaces/keyspace-record.js";
import type { KeyspaceRecords } from "../../src/ports/keyspace-records.js";
import { DuplicateRecordError } from "../../src/ports/store-errors.js";
import { NEEDS_REAL_MONGODB } from "../support/mongo.js";
import { sampleKeyspace } from "../support/records.js";

export interface KeyspaceStoreUnderTest {
  readonly store: KeyspaceRecords;
  readonly enforcesUniqueness: boolean;
  cleanup(): Promise<void>;
}

/** The behaviour every KeyspaceRecords adapter must show. */
export function keyspaceStoreContract(adapter: string, open: () => Promise<KeyspaceStoreUnderTest>): void {
  describe(`KeyspaceRecords contract: ${adapter}`, () => {
    let subject: KeyspaceStoreUnderTest;
    let store: KeyspaceRecords;
    beforeAll(async () => {
      subject = await open();
      store = subject.store;
    });
    afterAll(() => subject.cleanup());

    it("returns a keyspace exactly as it was inserted", async () => {
      const keyspace = sampleKeyspace({
        description: "billing API",
        keyDefaults: {
          prefix: "bill",
          byteLength: 24,
          environment: "live",
          ratelimits: [{ name: "requests", limit: 100, durationMs: 1_000 }],
        },
        roles: [{ name: "editor", permissions: ["documents.read", "documents.write"] }],
      });
      await store.insert(keyspace);
      expect(await store.get(keyspace.keyspaceId)).toEqual(keyspace);
      expect(await store.get("no-such-keyspace")).toBeUndefined();
    });

    it("lists by id, filtered by org and by a set of ids, a page at a time", async () => {
      const orgId = `org-${randomUUID()}`;
      const keyspaces = [sampleKeyspace({ orgId }), sampleKeyspace({ orgId }), sampleKeyspace({ orgId })];
      for (const keyspace of [...keyspaces].reverse()) await store.insert(keyspace);
      const ids = (list: KeyspaceRecord[]) => list.map((keyspace) => keyspace.keyspaceId);
      expect(ids(await store.list({ orgId, limit: 10 }))).toEqual(ids(keyspaces));
      expect(ids(await store.list({ orgId, limit: 2 }))).toEqual(ids(keyspaces.slice(0, 2)));
      expect(ids(await store.list({ orgId, afterKeyspaceId: keyspaces[0]?.keyspaceId, limit: 10 }))).toEqual(
        ids(keyspaces.slice(1)),
      );
      const chosen = [keyspaces[0]?.keyspaceId ?? "", keyspaces[2]?.keyspaceId ?? ""];
      expect(ids(await store.list({ keyspaces: { in: chosen }, limit: 10 }))).toEqual(chosen);
      expect(await store.list({ keyspaces: { in: [] }, limit: 10 })).toEqual([]);
    });

    it("updates the given fields and returns the result; unknown ids answer undefined", async () => {
      const keyspace = sampleKeyspace();
      await store.insert(keyspace);
      const updatedAt = new Date("2026-05-01T00:00:00Z");
      const roles = [{ name: "viewer", permissions: ["documents.read"] }];
      const expected = { ...keyspace, name: "renamed", roles, updatedAt };
      expect(await store.update(keyspace.keyspaceId, { name: "renamed", roles, updatedAt })).toEqual(expected);
      expect(await store.get(keyspace.keyspaceId)).toEqual(expected);
      expect(await store.update("no-such-keyspace", { name: "x" })).toBeUndefined();
    });

    it("rejects a second keyspace with the same id", async ({ skip }) => {
      skip(!subject.enforcesUniqueness, NEEDS_REAL_MONGODB);
      const keyspace = sampleKeyspace();
      await store.insert(keyspace);
      await expect(store.insert({ ...keyspace, name: "again" })).rejects.toThrow(DuplicateRecordError);
    });
  });
}
