import { describe, expect, it } from "vitest";
import { createVerifierScopes } from "../../src/verification/verifier-scope.js";

describe("issue 9 item 4: who may verify keys of which keyspace", () => {
  const principal = { keyId: "key_x", permissions: ["keyspace.*.verify_key", "keyspace.root.verify_key"] };

  it("without a root key: the configured keyspaces only, never root unless opted in", () => {
    const scope = createVerifierScopes({ unauthenticatedKeyspaces: ["app-a"], rootKeys: false })(undefined);
    expect(["app-a", "app-b", "root"].map(scope)).toEqual([true, false, false]);
  });

  it("with a root key: where it holds verify_key, root included only when opted in", () => {
    const closed = createVerifierScopes({ unauthenticatedKeyspaces: [], rootKeys: false })(principal);
    expect(["app-a", "app-b", "root"].map(closed)).toEqual([true, true, false]);
    const open = createVerifierScopes({ unauthenticatedKeyspaces: [], rootKeys: true })(principal);
    expect(["app-a", "root"].map(open)).toEqual([true, true]);
    const narrow = { keyId: "key_y", permissions: ["keyspace.app-a.verify_key"] };
    expect(
      ["app-a", "app-b", "root"].map(createVerifierScopes({ unauthenticatedKeyspaces: [], rootKeys: true })(narrow)),
    ).toEqual([true, false, false]);
  });
});
