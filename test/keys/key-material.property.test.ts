import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { generateKey, keyStart, parseKey } from "../../src/keys/key-material.js";

const seed = Number(process.env.FC_SEED ?? 20261203);
const ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const prefix = fc.stringMatching(/^[A-Za-z0-9]{1,8}(_[A-Za-z0-9]{1,8}){0,2}$/);
const key = fc
  .tuple(prefix, fc.integer({ min: 16, max: 64 }), fc.uint8Array({ minLength: 64, maxLength: 64 }))
  .map(([p, length, bytes]) => generateKey(p, length, (size) => bytes.slice(0, size)));

describe("issue 9: key parsing (properties)", () => {
  it("every key made parses, with its prefix and a start that shows only the prefix and 4 characters", () => {
    fc.assert(
      fc.property(key, (made) => {
        const parsed = parseKey(made);
        expect(parsed).toBeDefined();
        if (parsed) expect(made.startsWith(keyStart(parsed))).toBe(true);
      }),
      { seed, numRuns: 1_000 },
    );
  });

  it("any one character changed in the body or checksum fails the checksum", () => {
    fc.assert(
      fc.property(key, fc.nat(), fc.constantFrom(...ALPHABET), (made, at, letter) => {
        const position = made.lastIndexOf("_") + 1 + (at % (made.length - made.lastIndexOf("_") - 1));
        fc.pre(made[position] !== letter);
        const typo = `${made.slice(0, position)}${letter}${made.slice(position + 1)}`;
        expect(parseKey(typo)).toBeUndefined();
      }),
      { seed, numRuns: 2_000 },
    );
  });

  it("never throws, whatever the text", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 600, unit: "binary" }), (text) => {
        parseKey(text);
      }),
      { seed, numRuns: 2_000 },
    );
  });
});
