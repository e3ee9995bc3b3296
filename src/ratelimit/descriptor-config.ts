import { type DescriptorConfig, type DescriptorRule, type RateUnit, UNIT_MS } from "./descriptor-rules.js";

/** A rules file that does not say what it must; the message names the place. */
export class DescriptorConfigError extends Error {
  override readonly name = "DescriptorConfigError";
}

/**
 * Reads rules in the shape of envoyproxy/ratelimit's configuration (already
 * parsed from YAML): `domain`, `descriptors` of `key`, `value`, `rate_limit`
 * (`unit`, `requests_per_unit`), `shadow_mode` and nested `descriptors`. A
 * top-level `shadow_mode` puts every rule in shadow mode.
 */
export function readDescriptorConfig(document: unknown): DescriptorConfig {
  const root = object(document, "the file");
  const domain = root.domain;
  if (typeof domain !== "string" || domain === "")
    throw new DescriptorConfigError("domain: must be a non-empty string");
  const shadowAll = root.shadow_mode === true;
  return { domain, descriptors: rules(root.descriptors, "descriptors", shadowAll) };
}

function rules(value: unknown, path: string, shadowAll: boolean): DescriptorRule[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new DescriptorConfigError(`${path}: must be a list`);
  return value.map((item, i) => rule(item, `${path}[${i}]`, shadowAll));
}

function rule(value: unknown, path: string, shadowAll: boolean): DescriptorRule {
  const node = object(value, path);
  if (typeof node.key !== "string" || node.key === "")
    throw new DescriptorConfigError(`${path}.key: must be a non-empty string`);
  if (node.value !== undefined && typeof node.value !== "string") {
    throw new DescriptorConfigError(`${path}.value: must be a string`);
  }
  return {
    key: node.key,
    value: node.value,
    rateLimit: node.rate_limit === undefined ? undefined : rateLimit(node.rate_limit, `${path}.rate_limit`),
    shadowMode: shadowAll || node.shadow_mode === true,
    descriptors: rules(node.descriptors, `${path}.descriptors`, shadowAll),
  };
}

function rateLimit(value: unknown, path: string): DescriptorRule["rateLimit"] {
  const node = object(value, path);
  const unit = typeof node.unit === "string" ? node.unit.toLowerCase() : "";
  if (!(unit in UNIT_MS)) {
    throw new DescriptorConfigError(`${path}.unit: must be one of ${Object.keys(UNIT_MS).join(", ")}`);
  }
  const requests = node.requests_per_unit;
  if (typeof requests !== "number" || !Number.isInteger(requests) || requests < 0) {
    throw new DescriptorConfigError(`${path}.requests_per_unit: must be a whole number, 0 or more`);
  }
  return { requestsPerUnit: requests, unit: unit as RateUnit };
}

function object(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new DescriptorConfigError(`${path}: must be a mapping`);
  }
  return value as Record<string, unknown>;
}
