import { z } from "zod";
import { type DescriptorConfig, type DescriptorRule, type RateUnit, UNIT_MS } from "./descriptor-rules.js";

/** A rules file that does not say what it must; the message names the place. */
export class DescriptorConfigError extends Error {
  override readonly name = "DescriptorConfigError";
}

const UNITS = Object.keys(UNIT_MS) as [RateUnit, ...RateUnit[]];
const MAPPING = { error: "must be a mapping" };

/** A rule as the file writes it, before `shadow_mode` at the top is applied to it. */
interface FileRule {
  key: string;
  value?: string | undefined;
  rate_limit?: { unit: RateUnit; requests_per_unit: number } | undefined;
  shadow_mode?: boolean | undefined;
  descriptors: FileRule[];
}

const rateLimit = z.object(
  {
    unit: z
      .string({ error: `must be one of ${UNITS.join(", ")}` })
      .transform((unit) => unit.toLowerCase())
      .pipe(z.enum(UNITS, { error: `must be one of ${UNITS.join(", ")}` })),
    requests_per_unit: z
      .number({ error: "must be a whole number, 0 or more" })
      .int({ error: "must be a whole number, 0 or more" })
      .min(0, { error: "must be a whole number, 0 or more" }),
  },
  MAPPING,
);

/** Absent or null: no rules. */
const rules: z.ZodType<FileRule[]> = z.lazy(() =>
  z
    .array(rule, { error: "must be a list" })
    .nullish()
    .transform((list) => list ?? []),
);

const rule: z.ZodType<FileRule> = z.object(
  {
    key: z.string({ error: "must be a non-empty string" }).min(1, { error: "must be a non-empty string" }),
    value: z.string({ error: "must be a string" }).optional(),
    rate_limit: rateLimit.optional(),
    shadow_mode: z.boolean().optional(),
    descriptors: rules,
  },
  MAPPING,
);

const file = z.object(
  {
    domain: z.string({ error: "must be a non-empty string" }).min(1, { error: "must be a non-empty string" }),
    shadow_mode: z.boolean().optional(),
    descriptors: rules,
  },
  MAPPING,
);

/**
 * Reads rules in the shape of envoyproxy/ratelimit's configuration (already
 * parsed from YAML): `domain`, `descriptors` of `key`, `value`, `rate_limit`
 * (`unit`, `requests_per_unit`), `shadow_mode` and nested `descriptors`. A
 * top-level `shadow_mode` puts every rule in shadow mode.
 */
export function readDescriptorConfig(document: unknown): DescriptorConfig {
  const parsed = file.safeParse(document);
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    throw new DescriptorConfigError(`${placeOf(issue?.path ?? [])}: ${issue?.message ?? "is not valid"}`);
  }
  const shadowAll = parsed.data.shadow_mode === true;
  return { domain: parsed.data.domain, descriptors: parsed.data.descriptors.map((each) => toRule(each, shadowAll)) };
}

function toRule(fileRule: FileRule, shadowAll: boolean): DescriptorRule {
  const limit = fileRule.rate_limit;
  return {
    key: fileRule.key,
    value: fileRule.value,
    rateLimit: limit && { requestsPerUnit: limit.requests_per_unit, unit: limit.unit },
    shadowMode: shadowAll || fileRule.shadow_mode === true,
    descriptors: fileRule.descriptors.map((nested) => toRule(nested, shadowAll)),
  };
}

/** `descriptors[0].rate_limit.unit`, or "the file" for the document itself. */
function placeOf(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "the file";
  return path
    .map((part, i) => (typeof part === "number" ? `[${part}]` : `${i > 0 ? "." : ""}${String(part)}`))
    .join("");
}
