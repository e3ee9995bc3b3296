import { isIP, isIPv6 } from "node:net";
import { z } from "zod";
import { parseKey } from "../keys/key-material.js";
import { ROOT_KEYSPACE } from "../keyspaces/builtin-keyspaces.js";
import type { ConnectionLimits } from "../transport/connection-limits.js";

/** Keyward's settings, read once from the environment at start-up. */
export interface Config {
  readonly production: boolean;
  /** No MONGODB_URI: keys live in memory and vanish with the process. */
  readonly devMode: boolean;
  readonly host: string;
  readonly httpPort: number;
  readonly grpcPort: number;
  readonly mongodbUri?: string | undefined;
  readonly mongodbDatabase: string;
  /** One URL, or for a cluster or Sentinel set the comma-separated seed nodes or sentinels. */
  readonly redisUrl?: string | undefined;
  /** KEYWARD_REDIS_TYPE: one server, a Redis Cluster, or a master watched by Sentinel. */
  readonly redisType: "single" | "cluster" | "sentinel";
  /** The name the sentinels know the master by (KEYWARD_REDIS_SENTINEL_MASTER; sentinel only). */
  readonly redisSentinelMaster?: string | undefined;
  /**
   * What values Keyward writes to Redis are signed with (KEYWARD_REDIS_SECRET, and
   * KEYWARD_REDIS_SECRET_PREVIOUS still accepted during a rotation). Unset outside
   * production: one is made per process.
   */
  readonly redisSecrets?: { readonly current: string; readonly previous?: string | undefined } | undefined;
  /** A PEM file of the CA that signed Redis's certificate, for rediss:// URLs. */
  readonly redisCaFile?: string | undefined;
  readonly rootKey?: string | undefined;
  /** KEYWARD_REVOKE_ROOT_KEY: revoke the bootstrap root key at start-up (without KEYWARD_ROOT_KEY only). */
  readonly revokeRootKey: boolean;
  /** "root_key": VerifyKey needs a root key with verify_key; "none": anyone who reaches the port may verify. */
  readonly verifyAuth: "root_key" | "none";
  /** With verifyAuth "none": the keyspaces whose keys callers without a root key may verify. */
  readonly verifyKeyspaces: readonly string[];
  /** Whether root keys verify through VerifyKey and Check at all (never, unless opted in). */
  readonly verifyRootKeys: boolean;
  /** Verifications finding no key that one address may make per minute without a root key (and per client in Check). */
  readonly verifyFailuresPerMinute: number;
  /** How many counters one rate-limit rule may create per window (values it leaves open each make one). */
  readonly ratelimitMaxCountersPerRule: number;
  /** Headers Envoy's ext_authz check takes the key from, in order (lower case). */
  readonly extAuthzKeyHeaders: readonly string[];
  /** The rules file for Envoy's rate-limit service, if any. */
  readonly ratelimitConfigPath?: string | undefined;
  readonly authFailuresPerMinute: number;
  readonly hashSecret?: string | undefined;
  readonly ratelimitFallback: "local" | "deny";
  readonly cache: {
    /** What this process's cache of keys may take in memory (estimated bytes); 0 turns it off. */
    readonly maxBytes: number;
    /** Deprecated: a bound on the number of cached keys as well (KEYWARD_CACHE_MAX_ENTRIES), when set. */
    readonly maxEntries?: number | undefined;
    readonly ttlMs: number;
    readonly degradedTtlMs: number;
  };
  readonly usageFlushMs: number;
  /** How replicas lease blocks of a key's credits (src/credits/credit-leases.ts). */
  readonly creditLeases: { readonly max: number; readonly ttlMs: number; readonly idleMs: number };
  readonly audit: {
    /** Days the audit log keeps an event; 0 keeps events for ever. */
    readonly retentionDays: number;
    /** Refusals before authentication are summed up per address, method and outcome over this long. */
    readonly refusalIntervalMs: number;
  };
  readonly logLevel: string;
  readonly shutdownTimeoutMs: number;
  /** Bounds on every connection to either port. */
  readonly connections: ConnectionLimits;
}

/**
 * The in-process cache's default bound, 64 MiB: with the sidecar's V8 heap of
 * 256 MiB (deploy/kubernetes/sidecar.yaml) that leaves about 190 MiB for the
 * rest of the process and the garbage between collections (see README).
 */
export const DEFAULT_CACHE_MAX_BYTES = 64 * 2 ** 20;

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
  KEYWARD_HOST: z
    .string()
    .optional()
    .transform((value, context) => {
      if (value === undefined) return undefined;
      const host = listenAddress(value);
      if (host === undefined) {
        context.addIssue({
          code: "custom",
          message: "must be an IP address (IPv6 with or without brackets) or a host name",
        });
        return z.NEVER;
      }
      return host;
    }),
  KEYWARD_HTTP_PORT: port(8080),
  KEYWARD_GRPC_PORT: port(50051),
  MONGODB_URI: optionalText.refine((value) => value === undefined || /^mongodb(\+srv)?:\/\/./.test(value), {
    error: "must start with mongodb:// or mongodb+srv://",
  }),
  MONGODB_DATABASE: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,63}$/, "must be a database name")
    .default("keyward"),
  REDIS_URL: optionalText.refine((value) => value === undefined || redisUrlProblem(value) === undefined, {
    error: "must be redis:// or rediss:// URLs (comma-separated for seed nodes), all with the same scheme",
  }),
  KEYWARD_REDIS_TYPE: z.enum(["single", "cluster", "sentinel"]).default("single"),
  KEYWARD_REDIS_SENTINEL_MASTER: optionalText.refine(
    (value) => value === undefined || /^[A-Za-z0-9._-]{1,128}$/.test(value),
    { error: "must be a Sentinel master name (letters, digits, '.', '_', '-')" },
  ),
  KEYWARD_REDIS_SECRET: optionalText.refine((value) => value === undefined || value.length >= 32, {
    error: "must be at least 32 characters",
  }),
  KEYWARD_REDIS_SECRET_PREVIOUS: optionalText.refine((value) => value === undefined || value.length >= 32, {
    error: "must be at least 32 characters",
  }),
  KEYWARD_REDIS_CA_FILE: optionalText,
  KEYWARD_ROOT_KEY: optionalText.refine((value) => value === undefined || parseKey(value) !== undefined, {
    error: "must be a Keyward key: make one with `npm run root-key`",
  }),
  KEYWARD_REVOKE_ROOT_KEY: z.enum(["true", "false"]).default("false"),
  KEYWARD_VERIFY_AUTH: z.enum(["root_key", "none"]).default("root_key"),
  KEYWARD_VERIFY_KEYSPACES: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,63}(,[a-z0-9][a-z0-9_-]{0,63})*$/, "must be keyspace ids separated by commas")
    .optional(),
  KEYWARD_VERIFY_ROOT_KEYS: z.enum(["true", "false"]).default("false"),
  KEYWARD_VERIFY_FAILURES_PER_MINUTE: z.coerce.number().int().min(1).max(100_000_000).default(6_000),
  KEYWARD_RATELIMIT_MAX_COUNTERS_PER_RULE: z.coerce.number().int().min(1).max(10_000_000).default(100_000),
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
  KEYWARD_CACHE_MAX_BYTES: z.coerce
    .number({ error: "must be a whole number of bytes" })
    .int("must be a whole number of bytes")
    .min(0, "must be a whole number of bytes")
    .max(2 ** 40, "must be at most 1 TiB")
    .default(DEFAULT_CACHE_MAX_BYTES),
  KEYWARD_CACHE_MAX_ENTRIES: z.coerce.number().int().min(0).max(10_000_000).optional(),
  KEYWARD_CACHE_TTL_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
  KEYWARD_CACHE_DEGRADED_TTL_MS: z.coerce.number().int().min(0).max(60_000).default(1_000),
  KEYWARD_USAGE_FLUSH_MS: z.coerce.number().int().min(100).max(600_000).default(2_000),
  KEYWARD_CREDIT_LEASE_MAX: z.coerce.number().int().min(1).max(1_000_000).default(1_000),
  KEYWARD_CREDIT_LEASE_TTL_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  KEYWARD_CREDIT_LEASE_IDLE_MS: z.coerce.number().int().min(10).max(600_000).default(1_000),
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
  KEYWARD_HANDSHAKE_TIMEOUT_MS: z.coerce.number().int().min(10).max(300_000).default(10_000),
  KEYWARD_IDLE_TIMEOUT_MS: z.coerce.number().int().min(10).max(86_400_000).default(300_000),
  KEYWARD_MAX_CONCURRENT_STREAMS: z.coerce.number().int().min(1).max(1_000_000).default(1_000),
  KEYWARD_MAX_SESSION_MEMORY_MB: z.coerce.number().int().min(1).max(65_536).default(32),
});

/** What is wrong with a REDIS_URL value, or undefined when it is a list of Redis URLs of one scheme. */
function redisUrlProblem(value: string): string | undefined {
  const urls = value.split(",").map((part) => part.trim());
  for (const url of urls) {
    if (!/^rediss?:\/\/./.test(url) || !URL.canParse(url)) return "not a redis:// or rediss:// URL";
  }
  if (new Set(urls.map((url) => url.split(":")[0])).size > 1) return "mixes redis:// and rediss://";
  return undefined;
}

/** The Redis deployment's settings that only make sense together; throws ConfigError naming the mismatch. */
function checkRedisDeployment(settings: z.infer<typeof schema>): void {
  const type = settings.KEYWARD_REDIS_TYPE;
  const urls = settings.REDIS_URL?.split(",") ?? [];
  if (type !== "single" && urls.length === 0) {
    throw new ConfigError(
      `KEYWARD_REDIS_TYPE=${type} needs REDIS_URL (the ${type === "cluster" ? "seed nodes" : "sentinels"})`,
    );
  }
  if (type === "single" && urls.length > 1) {
    throw new ConfigError(
      "REDIS_URL names several servers: set KEYWARD_REDIS_TYPE=cluster (seed nodes) or sentinel (sentinels)",
    );
  }
  if (type === "sentinel" && !settings.KEYWARD_REDIS_SENTINEL_MASTER) {
    throw new ConfigError("KEYWARD_REDIS_SENTINEL_MASTER is required with KEYWARD_REDIS_TYPE=sentinel");
  }
  if (type !== "sentinel" && settings.KEYWARD_REDIS_SENTINEL_MASTER) {
    throw new ConfigError("KEYWARD_REDIS_SENTINEL_MASTER needs KEYWARD_REDIS_TYPE=sentinel");
  }
}

/** Every environment variable Keyward reads. */
export const SETTING_NAMES: readonly string[] = Object.freeze(
  Object.keys(schema.shape).filter((name) => name !== "NODE_ENV"),
);

const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * KEYWARD_HOST as both listeners take it: an IPv4 address, an IPv6 address
 * without brackets (`::`, `[::]` and `[::1]` are all accepted), or a host
 * name; undefined for anything else (a port, a URL, stray brackets).
 */
function listenAddress(value: string): string | undefined {
  const bare = value.startsWith("[") && value.endsWith("]") ? value.slice(1, -1) : value;
  if (bare !== value) return isIPv6(bare) ? bare : undefined;
  return isIP(value) !== 0 || HOST_NAME.test(value) ? value : undefined;
}

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
  if (production && settings.REDIS_URL && !settings.KEYWARD_REDIS_SECRET) {
    throw new ConfigError(
      "KEYWARD_REDIS_SECRET is required with REDIS_URL when NODE_ENV=production (values in Redis are signed with it)",
    );
  }
  const revokeRootKey = settings.KEYWARD_REVOKE_ROOT_KEY === "true";
  if (revokeRootKey && settings.KEYWARD_ROOT_KEY) {
    throw new ConfigError("KEYWARD_REVOKE_ROOT_KEY=true and KEYWARD_ROOT_KEY contradict each other: set one");
  }
  const verifyKeyspaces = settings.KEYWARD_VERIFY_KEYSPACES?.split(",") ?? [];
  const verifyRootKeys = settings.KEYWARD_VERIFY_ROOT_KEYS === "true";
  if (settings.KEYWARD_VERIFY_AUTH === "none" && verifyKeyspaces.length === 0) {
    throw new ConfigError(
      "KEYWARD_VERIFY_KEYSPACES is required with KEYWARD_VERIFY_AUTH=none: name the keyspaces callers without a root key may verify in",
    );
  }
  if (verifyKeyspaces.includes(ROOT_KEYSPACE) && !verifyRootKeys) {
    throw new ConfigError(
      "KEYWARD_VERIFY_KEYSPACES names root: root keys verify only with KEYWARD_VERIFY_ROOT_KEYS=true",
    );
  }
  checkRedisDeployment(settings);
  if (settings.KEYWARD_REDIS_SECRET_PREVIOUS && !settings.KEYWARD_REDIS_SECRET) {
    throw new ConfigError("KEYWARD_REDIS_SECRET_PREVIOUS needs KEYWARD_REDIS_SECRET");
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
    redisType: settings.KEYWARD_REDIS_TYPE,
    redisSentinelMaster: settings.KEYWARD_REDIS_SENTINEL_MASTER,
    redisSecrets: settings.KEYWARD_REDIS_SECRET
      ? { current: settings.KEYWARD_REDIS_SECRET, previous: settings.KEYWARD_REDIS_SECRET_PREVIOUS }
      : undefined,
    redisCaFile: settings.KEYWARD_REDIS_CA_FILE,
    rootKey: settings.KEYWARD_ROOT_KEY,
    revokeRootKey,
    verifyAuth: settings.KEYWARD_VERIFY_AUTH,
    verifyKeyspaces: Object.freeze(verifyKeyspaces),
    verifyRootKeys,
    verifyFailuresPerMinute: settings.KEYWARD_VERIFY_FAILURES_PER_MINUTE,
    ratelimitMaxCountersPerRule: settings.KEYWARD_RATELIMIT_MAX_COUNTERS_PER_RULE,
    extAuthzKeyHeaders: Object.freeze(settings.KEYWARD_EXTAUTHZ_KEY_HEADERS.toLowerCase().split(",")),
    ratelimitConfigPath: settings.KEYWARD_RATELIMIT_CONFIG,
    authFailuresPerMinute: settings.KEYWARD_AUTH_FAILURES_PER_MINUTE,
    hashSecret: settings.KEYWARD_HASH_SECRET,
    ratelimitFallback: settings.KEYWARD_RATELIMIT_FALLBACK,
    cache: {
      maxBytes: settings.KEYWARD_CACHE_MAX_BYTES,
      maxEntries: settings.KEYWARD_CACHE_MAX_ENTRIES,
      ttlMs: settings.KEYWARD_CACHE_TTL_MS,
      degradedTtlMs: settings.KEYWARD_CACHE_DEGRADED_TTL_MS,
    },
    usageFlushMs: settings.KEYWARD_USAGE_FLUSH_MS,
    creditLeases: Object.freeze({
      max: settings.KEYWARD_CREDIT_LEASE_MAX,
      ttlMs: settings.KEYWARD_CREDIT_LEASE_TTL_MS,
      idleMs: settings.KEYWARD_CREDIT_LEASE_IDLE_MS,
    }),
    audit: Object.freeze({
      retentionDays: settings.KEYWARD_AUDIT_RETENTION_DAYS,
      refusalIntervalMs: settings.KEYWARD_AUDIT_REFUSAL_INTERVAL_MS,
    }),
    logLevel: settings.KEYWARD_LOG_LEVEL,
    shutdownTimeoutMs: settings.KEYWARD_SHUTDOWN_TIMEOUT_MS,
    connections: Object.freeze({
      handshakeTimeoutMs: settings.KEYWARD_HANDSHAKE_TIMEOUT_MS,
      idleTimeoutMs: settings.KEYWARD_IDLE_TIMEOUT_MS,
      maxConcurrentStreams: settings.KEYWARD_MAX_CONCURRENT_STREAMS,
      maxSessionMemoryMb: settings.KEYWARD_MAX_SESSION_MEMORY_MB,
    }),
  });
}
