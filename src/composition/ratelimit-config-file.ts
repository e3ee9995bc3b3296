import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { readDescriptorConfig } from "../ratelimit/descriptor-config.js";
import type { DescriptorConfig } from "../ratelimit/descriptor-rules.js";
import { ConfigError } from "./config.js";

/** Reads the rate-limit rules KEYWARD_RATELIMIT_CONFIG names (YAML); any fault stops start-up, naming the variable. */
export function loadRatelimitConfig(path: string): DescriptorConfig {
  try {
    return readDescriptorConfig(parse(readFileSync(path, "utf8")));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`KEYWARD_RATELIMIT_CONFIG (${path}): ${reason}`);
  }
}
