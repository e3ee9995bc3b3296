import { z } from "zod";
import { parseKey } from "./keys/key-material.js";

/** Keyward's settings, read once from the environment at start-up. */
export interface Config {
  readonly production: boolean;
  /** No MONGODB_URI: keys live in memory and vanish with the process. */
  readonly devMode: boolean;
  readonly host: string;
  readonly httpPort: number;
  readonly grpcPort: number;
  readonly mongodbUri?: string;
  readonly mongodbDatabase: string;
  readonly redisUrl?: string;
  readonly rootKey?: string;
  /** "root_key": VerifyKey needs a root key with verify_key; "none": anyone who reaches the port may verify. */
  readonly verifyAuth: "root_key" | "none";
  /** Headers Envoy's ext_authz check takes the key from, in order (lower case). */
  readonly extAuthzKeyHeaders: readonly string[];
  /** The rules file for Envoy's rate-limit service, if any. */
  readonly ratelimitConfigPath?: string;
  readonly authFailuresPerMinute: number;
  readonly hashSecret?: string;
  readonly ratelimitFallback: "local" | "deny";
  readonly cache: { readonly maxEntries: number; readonly ttlMs: number; readonly degradedTtlMs: number };
  readonly usageFlushMs: number;
  readonly audit: {
    /** Days the audit log keeps an event; 0 keeps events for ever. */
    readonly retentionDays: number;
    /** Refusals before authentication are summed up per address, method and outcome over this long. */
    readonly refusalIntervalMs: number;
  };
  readonly logLevel: string;
  readonly shutdownTimeoutMs: number;
}

const port = (fallback: number) =>
  z.coerce
    .number({ error: "must be a port number (0-65535)" })
    .int("must be a port number (0-65535)")
    .min(0, "must be a port number (0-65535)")
    .max(65535, "must be a port number (0-65535)")
    .default(fallback);

const optionalText = z
  .string()
  .optional()
  .transform((value) => value || undefined);

const schema = z.object({
  NODE_ENV: z.string().optional(),
  KEYWARD_HOST: z.string().min(1, "must not be empty").optional(),
  KEYWARD_HTTP_PORT: port(8080),
  KEYWARD_GRPC_PORT: port(50051),
  MONGODB_URI: optionalText.refine((value) => value === undefined || /^mongodb(\+srv)?:\/\/./.test(value), {
    error: "must start with mongodb:// or mongodb+srv://",
  }),
  MONGODB_DATABASE: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,63}$/, "must be a database name")
    .default("keyward"),
  REDIS_URL: optionalText.refine((value) => value === undefined || /^rediss?:\/\/./.test(value), {
    error: "must start with redis:// or rediss://",
  }),
  KEYWARD_ROOT_KEY: optionalText.refine((value) => value === undefined || parseKey(value) !== undefined, {
    error: "must be a Keyward key: make one with `npm run root-key`",
  }),
  KEYWARD_VERIFY_AUTH: z.enum(["root_key", "none"]).default("root_key"),
  KEYWARD_EXTAUTHZ_KEY_HEADERS: z
    .string()
    .regex(/^[A-Za-z0-9-]+(,[A-Za-z0-9-]+)*$/, "must be header names separated by commas")
    .default("authorization,x-api-key"),
  KEYWARD_RATELIMIT_CONFIG: optionalText,
  KEYWARD_AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(20),
  KEYWARD_HASH_SECRET: optionalText.refine((value) => value === undefined || value.length >= 32, {
    error: "must be at least 32 characters",
  }),
  KEYWARD_RATELIMIT_FALLBACK: z.enum(["local", "deny"]).default("local"),
  KEYWARD_CACHE_MAX_ENTRIES: z.coerce.number().int().min(0).max(10_000_000).default(100_000),
  KEYWARD_CACHE_TTL_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
  KEYWARD_CACHE_DEGRADED_TTL_MS: z.coerce.number().int().min(0).max(60_000).default(1_000),
  KEYWARD_USAGE_FLUSH_MS: z.coerce.number().int().min(100).max(600_000).default(2_000),
  KEYWARD_AUDIT_RETENTION_DAYS: z.coerce
    .number({ error: "must be a whole number of days (0 keeps events for ever)" })
    .int("must be a whole number of days (0 keeps events for ever)")
    .min(0, "must be a whole number of days (0 keeps events for ever)")
    .max(36_500, "must be at most 36500 days")
    .default(365),
  KEYWARD_AUDIT_REFUSAL_INTERVAL_MS: z.coerce
    .number({ error: "must be milliseconds between 100 and 3600000" })
    .int("must be milliseconds between 100 and 3600000")
    .min(100, "must be milliseconds between 100 and 3600000")
    .max(3_600_000, "must be milliseconds between 100 and 3600000")
    .default(60_000),
  KEYWARD_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  KEYWARD_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).max(300_000).default(10_000),
});

/** A bad setting, named so that the operator can fix it; values are never echoed (they may be secrets). */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** Reads and checks the environment; throws ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join("; ")}`);
  }
  const settings = parsed.data;
  const production = settings.NODE_ENV === "production";
  const devMode = settings.MONGODB_URI === undefined;
  if (production && devMode) {
    throw new ConfigError("MONGODB_URI is required when NODE_ENV=production (dev mode keeps keys only in memory)");
  }
  return Object.freeze({
    production,
    devMode,
    // Dev mode listens on loopback only unless told otherwise.
    host: settings.KEYWARD_HOST ?? (devMode ? "127.0.0.1" : "0.0.0.0"),
    httpPort: settings.KEYWARD_HTTP_PORT,
    grpcPort: settings.KEYWARD_GRPC_PORT,
    mongodbUri: settings.MONGODB_URI,
    mongodbDatabase: settings.MONGODB_DATABASE,
    redisUrl: settings.REDIS_URL,
    rootKey: settings.KEYWARD_ROOT_KEY,
    verifyAuth: settings.KEYWARD_VERIFY_AUTH,
    extAuthzKeyHeaders: Object.freeze(settings.KEYWARD_EXTAUTHZ_KEY_HEADERS.toLowerCase().split(",")),
    ratelimitConfigPath: settings.KEYWARD_RATELIMIT_CONFIG,
    authFailuresPerMinute: settings.KEYWARD_AUTH_FAILURES_PER_MINUTE,
    hashSecret: settings.KEYWARD_HASH_SECRET,
    ratelimitFallback: settings.KEYWARD_RATELIMIT_FALLBACK,
    cache: {
      maxEntries: settings.KEYWARD_CACHE_MAX_ENTRIES,
      ttlMs: settings.KEYWARD_CACHE_TTL_MS,
      degradedTtlMs: settings.KEYWARD_CACHE_DEGRADED_TTL_MS,
    },
    usageFlushMs: settings.KEYWARD_USAGE_FLUSH_MS,
    audit: Object.freeze({
      retentionDays: settings.KEYWARD_AUDIT_RETENTION_DAYS,
      refusalIntervalMs: settings.KEYWARD_AUDIT_REFUSAL_INTERVAL_MS,
    }),
    logLevel: settings.KEYWARD_LOG_LEVEL,
    shutdownTimeoutMs: settings.KEYWARD_SHUTDOWN_TIMEOUT_MS,
  });
}
