import { describe, expect, it } from "vitest";
import { MAX_META_BYTES, metaFits } from "../../src/keys/meta.js";

/** Meta whose JSON text is exactly `bytes` long, `{"n":"…"}`, padded with a character of `width` UTF-8 bytes. */
function metaOf(bytes: number, char = "x") {
  const width = new TextEncoder().encode(char).length;
  return { n: char.repeat((bytes - '{"n":""}'.length) / width) };
}

describe("meta's size", () => {
  it("fits up to MAX_META_BYTES of JSON, counted in UTF-8 bytes, not characters", () => {
    expect(metaFits(undefined)).toBe(true);
    expect(metaFits(metaOf(MAX_META_BYTES))).toBe(true);
    expect(metaFits(metaOf(MAX_META_BYTES + 1))).toBe(false);
    // 8,189 two-byte characters: half the limit in characters, over it in bytes.
    expect(metaFits(metaOf(MAX_META_BYTES + 2, "é"))).toBe(false);
  });
});
