import { describe, expect, it } from "vitest";
import { grantCovers } from "../../src/auth/permissions.js";
import { keyspacesWhere, may, mayAnywhere, mayEverywhere, mayGrant, type Principal } from "../../src/auth/principal.js";

const principal = (...permissions: string[]): Principal => ({ keyId: "key_test", permissions });

describe("permission patterns", () => {
  it.each([
    ["keyspace.billing.read_key", "keyspace.billing.read_key", true],
    ["keyspace.*.read_key", "keyspace.billing.read_key", true],
    ["keyspace.billing.*", "keyspace.billing.create_key", true],
    ["keyspace.*.*", "keyspace.billing.delete_key", true],
    ["keyspace.*.read_key", "keyspace.billing.create_key", false],
    ["keyspace.billing.read_key", "keyspace.billingx.read_key", false],
    ["keyspace.*", "keyspace.billing.read_key", false],
    ["keyspace.*.*", "keyspace.root.create_key", false],
    ["keyspace.root.*", "keyspace.root.create_key", true],
    ["documents.*", "documents.read", true],
  ])("%s covers %s: %s", (granted, required, expected) => {
    expect(grantCovers(granted, required)).toBe(expected);
  });
});

describe("what a principal may do", () => {
  const scoped = principal("keyspace.billing.read_key", "keyspace.billing.create_key", "keyspace.search.read_key");
  const admin = principal("keyspace.*.*");

  it("acts in the keyspaces it was granted and nowhere else", () => {
    expect(may(scoped, "read_key", "billing")).toBe(true);
    expect(may(scoped, "read_key", "payroll")).toBe(false);
    expect(may(scoped, "delete_key", "billing")).toBe(false);
  });

  it("knows where it may act before any lookup", () => {
    expect(mayAnywhere(scoped, "read_key")).toBe(true);
    expect(mayAnywhere(scoped, "verify_key")).toBe(false);
    expect(mayEverywhere(scoped, "read_key")).toBe(false);
    expect(mayEverywhere(admin, "verify_key")).toBe(true);
    expect(keyspacesWhere(scoped, "read_key")).toEqual(["billing", "search"]);
    expect(keyspacesWhere(scoped, "create_key")).toEqual(["billing"]);
    expect(keyspacesWhere(admin, "read_key")).toBe("all");
  });

  it("never reaches the root keyspace through a wildcard", () => {
    expect(may(admin, "create_key", "root")).toBe(false);
    expect(may(principal("keyspace.root.create_key"), "create_key", "root")).toBe(true);
  });

  it("grants only what it holds itself", () => {
    const manager = principal("keyspace.root.create_key", "keyspace.billing.*");
    expect(mayGrant(manager, ["keyspace.billing.read_key", "keyspace.billing.*"])).toBe(true);
    expect(mayGrant(manager, ["keyspace.search.read_key"])).toBe(false);
    expect(mayGrant(manager, ["keyspace.*.read_key"])).toBe(false);
    expect(mayGrant(admin, ["keyspace.root.create_key"])).toBe(false);
  });
});
