import type { DescriptorEntry } from "./descriptor-rules.js";

/** A ShouldRateLimit request as Envoy sends it, before its rules are checked. */
export interface DescriptorRequestInput {
  readonly domain: string;
  readonly descriptors: readonly { readonly entries: readonly DescriptorEntry[] }[];
  readonly hitsAddend: number;
}

const MAX_DESCRIPTORS = 64;
const MAX_ENTRIES = 16;
const MAX_DOMAIN_LENGTH = 255;
const MAX_ENTRY_KEY_LENGTH = 255;
const MAX_ENTRY_VALUE_LENGTH = 1_024;
/** The same bound as a verification's cost. */
const MAX_HITS = 1_000_000;

/**
 * The field of the first rule a rate-limit request breaks, and what is wrong;
 * undefined when it keeps them all. Bounded so that one request can neither
 * fire an unbounded number of counters nor carry unbounded names into Redis.
 */
export function descriptorRequestProblem(
  request: DescriptorRequestInput,
): { readonly field: string; readonly message: string } | undefined {
  if (request.domain.length > MAX_DOMAIN_LENGTH) {
    return { field: "domain", message: `must be at most ${MAX_DOMAIN_LENGTH} characters` };
  }
  if (request.hitsAddend > MAX_HITS) return { field: "hits_addend", message: `must be at most ${MAX_HITS}` };
  if (request.descriptors.length > MAX_DESCRIPTORS) {
    return { field: "descriptors", message: `must have at most ${MAX_DESCRIPTORS} entries` };
  }
  for (const [i, { entries }] of request.descriptors.entries()) {
    if (entries.length > MAX_ENTRIES) {
      return { field: `descriptors[${i}].entries`, message: `must have at most ${MAX_ENTRIES} entries` };
    }
    for (const [j, entry] of entries.entries()) {
      if (entry.key.length > MAX_ENTRY_KEY_LENGTH || entry.value.length > MAX_ENTRY_VALUE_LENGTH) {
        return {
          field: `descriptors[${i}].entries[${j}]`,
          message: `key and value must be at most ${MAX_ENTRY_KEY_LENGTH} and ${MAX_ENTRY_VALUE_LENGTH} characters`,
        };
      }
    }
  }
  return undefined;
}
