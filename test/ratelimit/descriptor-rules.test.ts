import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { DescriptorConfigError, readDescriptorConfig } from "../../src/ratelimit/descriptor-config.js";
import { matchDescriptor } from "../../src/ratelimit/descriptor-rules.js";

const config = readDescriptorConfig(
  parse(`
domain: edge
descriptors:
  - key: remote_address
    rate_limit: { unit: second, requests_per_unit: 10 }
  - key: path
    value: /v1/search
    rate_limit: { unit: MINUTE, requests_per_unit: 100 }
    descriptors:
      - key: x-keyward-key-id
        rate_limit: { unit: minute, requests_per_unit: 5 }
  - key: path
    rate_limit: { unit: hour, requests_per_unit: 1000 }
  - key: x-keyward-key-id
  - key: plan
    value: free
    shadow_mode: true
    rate_limit: { unit: day, requests_per_unit: 50 }
`),
);

const entries = (...pairs: [string, string][]) => pairs.map(([key, value]) => ({ key, value }));

describe("matching descriptors", () => {
  it("applies a rule without a value to every value, counting each value apart", () => {
    const a = matchDescriptor(config, entries(["remote_address", "10.0.0.1"]));
    const b = matchDescriptor(config, entries(["remote_address", "10.0.0.2"]));
    expect(a).toMatchObject({ kind: "limit", requestsPerUnit: 10, unit: "second" });
    expect(a.kind === "limit" && b.kind === "limit" && a.counter !== b.counter).toBe(true);
  });

  it("prefers the rule with the exact value over the one without", () => {
    expect(matchDescriptor(config, entries(["path", "/v1/search"]))).toMatchObject({
      requestsPerUnit: 100,
      unit: "minute",
    });
    expect(matchDescriptor(config, entries(["path", "/v1/other"]))).toMatchObject({
      requestsPerUnit: 1000,
      unit: "hour",
    });
  });

  it("follows nested rules entry by entry", () => {
    expect(matchDescriptor(config, entries(["path", "/v1/search"], ["x-keyward-key-id", "key_1"]))).toMatchObject({
      kind: "limit",
      requestsPerUnit: 5,
      counter: "edge|path=/v1/search|x-keyward-key-id=key_1",
    });
  });

  it("issue 9 item 6: names the rule apart from the counter, with * for values the rule leaves open", () => {
    expect(matchDescriptor(config, entries(["path", "/v1/search"], ["x-keyward-key-id", "key_1"]))).toMatchObject({
      rule: "edge|path=/v1/search|x-keyward-key-id=*",
    });
  });

  it("holds a key-id entry without a limit to the key's own limits", () => {
    expect(matchDescriptor(config, entries(["x-keyward-key-id", "key_7"]))).toEqual({
      kind: "key",
      keyId: "key_7",
      shadowMode: false,
    });
  });

  it("leaves descriptors no rule knows, or that outrun the rules, unlimited", () => {
    expect(matchDescriptor(config, entries(["country", "NZ"]))).toEqual({ kind: "unlimited" });
    expect(matchDescriptor(config, entries(["remote_address", "10.0.0.1"], ["path", "/"]))).toEqual({
      kind: "unlimited",
    });
    expect(matchDescriptor(config, [])).toEqual({ kind: "unlimited" });
  });

  it("carries shadow mode", () => {
    expect(matchDescriptor(config, entries(["plan", "free"]))).toMatchObject({ kind: "limit", shadowMode: true });
  });
});

describe("reading the rules", () => {
  it.each([
    ["", "the file: must be a mapping"],
    ["descriptors: []", "domain: must be a non-empty string"],
    ["domain: d\ndescriptors: {}", "descriptors: must be a list"],
    ["domain: d\ndescriptors: [{ value: x }]", "descriptors[0].key: must be a non-empty string"],
    [
      "domain: d\ndescriptors: [{ key: k, rate_limit: { unit: fortnight, requests_per_unit: 1 } }]",
      "descriptors[0].rate_limit.unit: must be one of second, minute, hour, day, month, year",
    ],
    [
      "domain: d\ndescriptors: [{ key: k, descriptors: [{ key: n, rate_limit: { unit: second, requests_per_unit: -1 } }] }]",
      "descriptors[0].descriptors[0].rate_limit.requests_per_unit: must be a whole number, 0 or more",
    ],
  ])("refuses %j: %s", (text, message) => {
    expect(() => readDescriptorConfig(parse(text))).toThrow(new DescriptorConfigError(message));
  });

  it("puts every rule in shadow mode when the file says so", () => {
    const shadow = readDescriptorConfig(
      parse(
        "domain: d\nshadow_mode: true\ndescriptors: [{ key: k, rate_limit: { unit: second, requests_per_unit: 1 } }]",
      ),
    );
    expect(matchDescriptor(shadow, entries(["k", "v"]))).toMatchObject({ shadowMode: true });
  });
});
