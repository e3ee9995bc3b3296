import { describe, expect, it } from "vitest";
import { decodeRecord, encodeRecord } from "../../src/adapters/redis/key-record-codec.js";
import { sampleRecord } from "../support/records.js";

describe("the shared cache's key record codec (EJSON)", () => {
  it("gives back the record: dates as dates, fields left undefined still absent", () => {
    const record = sampleRecord({
      expiresAt: undefined,
      revokedAt: new Date(Date.UTC(2026, 5, 1)),
      retiredSecrets: [{ hash: "h", validUntil: new Date(Date.UTC(2026, 6, 1)) }],
      refill: { interval: "daily", amount: 5, refillDay: 0, lastRefilledAt: undefined },
    });
    const decoded = decodeRecord(encodeRecord(record));
    expect(decoded).toEqual(record);
    expect("expiresAt" in decoded).toBe(false);
    expect(decoded.retiredSecrets[0]?.validUntil).toBeInstanceOf(Date);
  });

  it("keeps meta as the caller wrote it, field names such as $date included", () => {
    const meta = { $date: "2020-01-01T00:00:00Z", nested: { $numberLong: "5" }, list: [1, "two", null] };
    expect(decodeRecord(encodeRecord(sampleRecord({ meta }))).meta).toEqual(meta);
  });
});
