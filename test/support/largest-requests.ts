import type { DescMethodUnary, MessageInitShape } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { AuditService } from "../../gen/keyward/v1/audit_service_pb.js";
import { RefillInterval } from "../../gen/keyward/v1/key_pb.js";
import { KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { KeyspaceService } from "../../gen/keyward/v1/keyspace_service_pb.js";
import { MAX_META_BYTES } from "../../src/keys/meta.js";
import { encodePageToken } from "../../src/services/page-token.js";

/** One request of one method. */
export interface MethodRequest<M extends DescMethodUnary = DescMethodUnary> {
  readonly method: M;
  readonly request: MessageInitShape<M["input"]>;
}

export interface LargestRequestOptions {
  /** A key the key methods act on (DeleteKey, last, deletes it). */
  readonly keyId: string;
  /** A keyspace id of 64 characters; CreateKeyspace (first) creates it, CreateKey uses it. */
  readonly keyspaceId: string;
  /**
   * Where a field allows any character, fill it with a 4-byte one (the most
   * bytes per character), rather than ASCII.
   */
  readonly wide: boolean;
  /**
   * How long each permission of a role is; 128 is the bound, but 100 roles of
   * 100 such permissions are more than the transports read (MAX_REQUEST_BYTES).
   */
  readonly rolePermissionLength?: number;
}

const DAY_MS = 86_400_000;
const MAX_CREDITS = 1_000_000_000_000n;
/** A character of four UTF-8 bytes (U+1D538), counted as one by max_len. */
const WIDE = "\u{1D538}";

/** A 64-character keyspace id ending in `suffix`. */
export function longKeyspaceId(suffix: string): string {
  return `k${suffix}`.padEnd(64, "x");
}

/**
 * The largest request each Keyward method accepts: every repeated field at
 * max_items, every string at max_len, numbers at their bounds. In an order
 * that lets each be served (keyspace before key, delete last).
 */
export function largestValidRequests(options: LargestRequestOptions): MethodRequest[] {
  const { keyId, keyspaceId, wide } = options;
  const fill = (length: number, start = "") => start + (wide ? WIDE : "x").repeat(length - start.length);
  const distinct = (count: number, length: number) => Array.from({ length: count }, (_, i) => fill(length, `${i}-`));
  const ascii = (count: number, length: number) => Array.from({ length: count }, (_, i) => `${i}-`.padEnd(length, "x"));
  const ratelimits = ascii(10, 64).map((name) => ({
    name,
    limit: 1_000_000_000n,
    duration: durationFromMs(30 * DAY_MS),
  }));
  const roles = ascii(100, 64).map((name) => ({
    name,
    permissions: distinct(100, options.rolePermissionLength ?? 128),
  }));
  const keyDefaults = { prefix: fill24(), byteLength: 255, environment: "e".repeat(64), ratelimits };
  const meta = { notes: "m".repeat(MAX_META_BYTES - JSON.stringify({ notes: "" }).length) };
  const keySettings = {
    name: fill(100),
    description: fill(255),
    ownerId: fill(255),
    orgId: fill(255),
    environment: "e".repeat(64),
    expiresAt: timestampFromMs(Date.now() + 365 * DAY_MS),
    meta,
    scopes: distinct(100, 128),
    roles: distinct(100, 128),
    permissions: distinct(100, 128),
    remaining: MAX_CREDITS,
    refill: { interval: RefillInterval.MONTHLY, amount: MAX_CREDITS, refillDay: 31 },
    ratelimits,
  };
  const K = KeyService.method;
  const KS = KeyspaceService.method;
  const requests: MethodRequest[] = [
    {
      method: KS.createKeyspace,
      request: { keyspaceId, orgId: fill(255), name: fill(100), description: fill(255), keyDefaults, roles },
    },
    { method: KS.getKeyspace, request: { keyspaceId } },
    { method: KS.listKeyspaces, request: { orgId: fill(255), pageSize: 1000, pageToken: encodePageToken(keyspaceId) } },
    {
      method: KS.updateKeyspace,
      request: {
        keyspaceId,
        updateMask: { paths: ["org_id", "name", "description", "key_defaults", "roles"] },
        orgId: fill(255),
        name: fill(100),
        description: fill(255),
        keyDefaults,
        roles,
      },
    },
    {
      method: K.createKey,
      request: { ...keySettings, keyspaceId, prefix: fill24(), byteLength: 255, enabled: true, createdBy: fill(255) },
    },
    // A batch must also fit the 1 MiB a request may take: items as large as that allows.
    {
      method: K.createKeys,
      request: { keys: Array.from({ length: 1_000 }, () => ({ keyspaceId, name: fill(100), description: fill(255) })) },
    },
    {
      method: K.importKeys,
      request: {
        keys: Array.from({ length: 1_000 }, (_, i) => ({
          settings: { keyspaceId, name: fill(100), prefix: fill24() },
          secret:
            i % 2 === 0
              ? { case: "plaintext" as const, value: `${fill24()}_${"k".repeat(487)}` }
              : { case: "sha256" as const, value: "a".repeat(64) },
          start: "s".repeat(32),
        })),
      },
    },
    { method: K.getKey, request: { keyId } },
    {
      method: K.listKeys,
      request: { keyspaceId, ownerId: fill(255), orgId: fill(255), pageSize: 1000, pageToken: encodePageToken(keyId) },
    },
    {
      method: K.updateKey,
      request: {
        ...keySettings,
        keyId,
        updateMask: {
          paths: [
            "name",
            "description",
            "owner_id",
            "org_id",
            "environment",
            "enabled",
            "expires_at",
            "meta",
            "scopes",
            "roles",
            "permissions",
            "remaining",
            "refill",
            "ratelimits",
          ],
        },
        enabled: true,
      },
    },
    {
      method: K.verifyKey,
      request: {
        key: fill(512),
        permissionQuery: permissionQuery(1000),
        cost: 1_000_000,
        ratelimits: ratelimits.map(({ name, duration }) => ({
          name,
          cost: 1_000_000,
          limit: 1_000_000_000n,
          duration,
        })),
      },
    },
    { method: K.updateCredits, request: { keyId, operation: { case: "add", value: MAX_CREDITS } } },
    { method: K.rerollKey, request: { keyId, gracePeriod: durationFromMs(30 * DAY_MS) } },
    { method: K.revokeKey, request: { keyId, reason: fill(255) } },
    { method: K.deleteKey, request: { keyId } },
    {
      method: AuditService.method.listAuditEvents,
      request: {
        keyspaceId,
        actorKeyId: keyId,
        action: "a".repeat(64),
        keyId,
        startTime: timestampFromMs(0),
        endTime: timestampFromMs(Date.now()),
        pageSize: 1000,
        pageToken: "",
      },
    },
  ];
  return requests;
}

/** The longest prefix the pattern allows: 24 characters of words joined by "_". */
function fill24(): string {
  return "sk_live_abcdefghijklmnop";
}

/** A permission query of `length` characters that parses: names joined by OR. */
function permissionQuery(length: number): string {
  let query = "documents.read";
  while (query.length + " OR documents.read".length <= length) query += " OR documents.read";
  return query.padEnd(length, "x");
}
