import { describe, expect, it } from "vitest";
import { MongoAuditEvents } from "../../src/adapters/mongo/mongo-audit-events.js";
import { openTestDatabase } from "../support/mongo.js";

const adapter = process.env.MONGODB_URI ? "mongodb (MONGODB_URI)" : "mongodb (stand-in)";

describe(`${adapter}: the audit log`, () => {
  it("lists events written before `count` existed as standing for one call each", async () => {
    const database = await openTestDatabase();
    try {
      const store = await MongoAuditEvents.open(database.db);
      await database.db.collection("audit_events").insertOne({
        eventId: "evt_01OLD00000000000000000000",
        time: new Date("2026-01-01T00:00:00Z"),
        actorKeyId: "key_01ACTOR00000000000000000000",
        action: "CreateKey",
        keyspaceId: "default",
        keyId: "",
        outcome: "OK",
        peer: "127.0.0.1:5000",
        requestId: "req-old",
      });
      expect(await store.list({ limit: 10 })).toMatchObject([{ eventId: "evt_01OLD00000000000000000000", count: 1 }]);
    } finally {
      await database.close();
    }
  });
});
