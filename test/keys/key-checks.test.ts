import { describe, expect, it } from "vitest";
import { checkKey } from "../../src/keys/key-checks.js";
import { reroll, revocation } from "../../src/keys/key-lifecycle.js";
import { sampleRecord } from "../support/records.js";

const now = Date.UTC(2026, 5, 1);

describe("checkKey", () => {
  it("passes a live key", () => {
    const record = sampleRecord();
    expect(checkKey(record, record.hash, now)).toBe("valid");
  });

  it("checks revoked, then disabled, then expired", () => {
    const past = new Date(now - 1);
    const record = sampleRecord({ revoked: true, enabled: false, expiresAt: past });
    expect(checkKey(record, record.hash, now)).toBe("revoked");
    expect(checkKey({ ...record, revoked: false }, record.hash, now)).toBe("disabled");
    expect(checkKey({ ...record, revoked: false, enabled: true }, record.hash, now)).toBe("expired");
  });

  it("treats the expiry instant itself as expired", () => {
    const record = sampleRecord({ expiresAt: new Date(now) });
    expect(checkKey(record, record.hash, now - 1)).toBe("valid");
    expect(checkKey(record, record.hash, now)).toBe("expired");
  });
});

describe("revocation", () => {
  it("marks the key revoked with time and reason, once", () => {
    const record = sampleRecord();
    const changes = revocation(record, "leaked", now);
    expect(changes).toEqual({
      revoked: true,
      revokedAt: new Date(now),
      revocationReason: "leaked",
      updatedAt: new Date(now),
    });
    expect(revocation({ ...record, ...changes }, "again", now + 1000)).toBeUndefined();
  });
});

describe("reroll", () => {
  const secret = { hash: "new-hash", start: "kw_newx" };

  it("keeps the old secret working through the grace period only", () => {
    const record = sampleRecord();
    const rerolled = { ...record, ...reroll(record, secret, 60_000, now) };
    expect(checkKey(rerolled, "new-hash", now)).toBe("valid");
    expect(checkKey(rerolled, record.hash, now + 59_999)).toBe("valid");
    expect(checkKey(rerolled, record.hash, now + 60_000)).toBe("revoked");
  });

  it("with no grace period, revokes the old secret at once", () => {
    const record = sampleRecord();
    const rerolled = { ...record, ...reroll(record, secret, 0, now) };
    expect(checkKey(rerolled, record.hash, now)).toBe("revoked");
  });

  it("forgets secrets retired more than 30 days ago", () => {
    const old = { hash: "ancient", validUntil: new Date(now - 31 * 24 * 3600_000) };
    const recent = { hash: "recent", validUntil: new Date(now - 24 * 3600_000) };
    const record = sampleRecord({ retiredSecrets: [old, recent] });
    const changes = reroll(record, secret, 0, now);
    expect(changes.retiredSecrets?.map((retired) => retired.hash)).toEqual(["recent", record.hash]);
  });
});
