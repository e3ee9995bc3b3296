import { describe, expect, it } from "vitest";
import { MemoryKeyspaceRecords } from "../../src/adapters/memory/memory-keyspace-records.js";
import { createImportedKeyRules } from "../../src/cache/imported-prefixes.js";
import { BASE_KEY_DEFAULTS } from "../../src/keyspaces/builtin-keyspaces.js";
import { hasPrefixAmong } from "../../src/verification/imported-keys.js";
import { sampleKeyspace } from "../support/records.js";

describe("imported key prefixes", () => {
  it("match only `<prefix>_` followed by a body", () => {
    expect(hasPrefixAmong("sk_live_abc", ["sk_live"])).toBe(true);
    expect(hasPrefixAmong("sk_live_abc", ["sk"])).toBe(true);
    expect(hasPrefixAmong("sk_livex_abc", ["sk_live"])).toBe(false);
    expect(hasPrefixAmong("sk_live_", ["sk_live"])).toBe(false);
    expect(hasPrefixAmong("sk_live", ["sk_live"])).toBe(false);
    expect(hasPrefixAmong("ghp_abc", [])).toBe(false);
  });

  it("let a key reach the lookup when any keyspace lists its prefix, and accept it only in those keyspaces", async () => {
    const keyspaces = new MemoryKeyspaceRecords();
    await keyspaces.insert(sampleKeyspace({ keyspaceId: "plain" }));
    await keyspaces.insert(
      sampleKeyspace({ keyspaceId: "legacy", keyDefaults: { ...BASE_KEY_DEFAULTS, importedPrefixes: ["sk_live"] } }),
    );
    const rules = createImportedKeyRules(keyspaces, 60_000);
    expect(await rules.mayReach("sk_live_abc")).toBe(true);
    expect(await rules.mayReach("ghp_abc")).toBe(false);
    expect(await rules.accepts("legacy", "sk_live_abc")).toBe(true);
    expect(await rules.accepts("plain", "sk_live_abc")).toBe(false);
    expect(await rules.accepts("missing", "sk_live_abc")).toBe(false);
  });

  it("read the store at most once per interval, however many keys are presented", async () => {
    const keyspaces = new MemoryKeyspaceRecords();
    let listings = 0;
    const counted = Object.assign(Object.create(keyspaces), {
      list: (query: Parameters<MemoryKeyspaceRecords["list"]>[0]) => {
        listings++;
        return keyspaces.list(query);
      },
    }) as MemoryKeyspaceRecords;
    const rules = createImportedKeyRules(counted, 60_000);
    await Promise.all(Array.from({ length: 1_000 }, (_, i) => rules.mayReach(`sk_live_${i}`)));
    expect(listings).toBe(1);
  });
});
