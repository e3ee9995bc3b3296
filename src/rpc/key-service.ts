import type { MessageInitShape } from "@bufbuild/protobuf";
import { durationMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { VerifyCode } from "../../gen/keyward/v1/key_pb.js";
import type {
  CreateKeyRequest,
  KeyService,
  UpdateKeyRequest,
  VerifyKeyResponseSchema,
} from "../../gen/keyward/v1/key_service_pb.js";
import type { Clock } from "../keys/clock.js";
import { checkKey } from "../keys/key-checks.js";
import type { KeyHasher } from "../keys/key-hasher.js";
import { KEY_ID_PATTERN } from "../keys/key-id.js";
import { reroll, revocation } from "../keys/key-lifecycle.js";
import { generateKey, parseKey, type RandomBytes } from "../keys/key-material.js";
import type { KeyChanges, KeyRecord, KeySettings } from "../keys/key-record.js";
import type { KeyStore } from "../store/key-store.js";
import type { ServiceHandlers } from "./call.js";
import { fromCredits, fromRatelimits, fromRefill, fromTimestamp, toKeyMessage, toTimestamp } from "./key-mapping.js";
import { decodePageToken, encodePageToken } from "./page-token.js";

/** What a new key gets when the request leaves a setting out. */
export interface KeyDefaults {
  readonly keyspaceId: string;
  readonly prefix: string;
  readonly byteLength: number;
}

export interface KeyServiceDeps {
  readonly store: KeyStore;
  readonly hasher: KeyHasher;
  readonly clock: Clock;
  readonly newKeyId: () => string;
  readonly random?: RandomBytes;
  readonly defaults: KeyDefaults;
}

const DEFAULT_PAGE_SIZE = 100;

/** KeyService: the life of a key from creation to deletion, and its verification. */
export function createKeyService(deps: KeyServiceDeps): ServiceHandlers<typeof KeyService> {
  const { store, hasher, clock, defaults } = deps;

  async function existing(keyId: string): Promise<KeyRecord> {
    const record = await store.get(keyId);
    if (!record) throw new ConnectError("key not found", Code.NotFound);
    return record;
  }

  function newSecret(prefix: string, byteLength: number) {
    const key = generateKey(prefix, byteLength, deps.random);
    return { key, hash: hasher(key), start: key.slice(0, prefix.length + 5) };
  }

  return {
    async createKey(request) {
      const now = clock();
      const prefix = request.prefix || defaults.prefix;
      const byteLength = request.byteLength ?? defaults.byteLength;
      const { key, hash, start } = newSecret(prefix, byteLength);
      const record: KeyRecord = {
        keyId: deps.newKeyId(),
        keyspaceId: request.keyspaceId || defaults.keyspaceId,
        hash,
        retiredSecrets: [],
        prefix,
        byteLength,
        start,
        createdBy: request.createdBy,
        createdAt: new Date(now),
        updatedAt: new Date(now),
        revoked: false,
        revocationReason: "",
        ...settingsOf(request),
        enabled: request.enabled ?? true,
      };
      await store.insert(record);
      return { keyId: record.keyId, key };
    },

    async getKey(request) {
      return { key: toKeyMessage(await existing(request.keyId), clock()) };
    },

    async listKeys(request) {
      const limit = request.pageSize || DEFAULT_PAGE_SIZE;
      const records = await store.list({
        keyspaceId: request.keyspaceId,
        ownerId: request.ownerId,
        orgId: request.orgId,
        afterKeyId: decodePageToken(request.pageToken, KEY_ID_PATTERN),
        limit: limit + 1,
      });
      const page = records.slice(0, limit);
      const last = page.at(-1);
      const now = clock();
      return {
        keys: page.map((record) => toKeyMessage(record, now)),
        nextPageToken: records.length > limit && last ? encodePageToken(last.keyId) : "",
      };
    },

    async updateKey(request) {
      const changes = changesOf(request, clock());
      const record = await store.update(request.keyId, changes);
      if (!record) throw new ConnectError("key not found", Code.NotFound);
      return { key: toKeyMessage(record, clock()) };
    },

    async verifyKey(request) {
      if (!parseKey(request.key)) return { valid: false, code: VerifyCode.NOT_FOUND };
      const hash = hasher(request.key);
      const record = await store.findByHash(hash);
      if (!record) return { valid: false, code: VerifyCode.NOT_FOUND };
      let code = checkKey(record, hash, clock());
      let remaining = record.remaining;
      if (code === VerifyCode.VALID && remaining !== undefined) {
        const left = await store.spendCredits(record.keyId, 1);
        if (left === undefined) code = VerifyCode.USAGE_EXCEEDED;
        else remaining = left;
      }
      return verifyAnswer(record, code, remaining);
    },

    async revokeKey(request) {
      const record = await existing(request.keyId);
      const changes = revocation(record, request.reason, clock());
      const revoked = changes ? await store.update(record.keyId, changes) : record;
      if (!revoked) throw new ConnectError("key not found", Code.NotFound);
      return { key: toKeyMessage(revoked, clock()) };
    },

    async rerollKey(request) {
      const record = await existing(request.keyId);
      if (record.revoked) throw new ConnectError("key is revoked", Code.FailedPrecondition);
      const { key, ...secret } = newSecret(record.prefix, record.byteLength);
      const graceMs = request.gracePeriod ? durationMs(request.gracePeriod) : 0;
      const updated = await store.update(record.keyId, reroll(record, secret, graceMs, clock()));
      if (!updated) throw new ConnectError("key not found", Code.NotFound);
      return { keyId: record.keyId, key };
    },

    async deleteKey(request) {
      if (!(await store.delete(request.keyId))) throw new ConnectError("key not found", Code.NotFound);
      return {};
    },
  };
}

type SettingsSource = Pick<
  CreateKeyRequest,
  | "name"
  | "description"
  | "ownerId"
  | "orgId"
  | "environment"
  | "expiresAt"
  | "meta"
  | "scopes"
  | "roles"
  | "permissions"
  | "remaining"
  | "refill"
  | "ratelimits"
>;

/** The settings a create or update request carries, in the domain's terms. */
function settingsOf(request: SettingsSource): Omit<KeySettings, "enabled"> {
  return {
    name: request.name,
    description: request.description,
    ownerId: request.ownerId,
    orgId: request.orgId,
    environment: request.environment,
    expiresAt: fromTimestamp(request.expiresAt),
    meta: request.meta,
    scopes: request.scopes,
    roles: request.roles,
    permissions: request.permissions,
    remaining: fromCredits(request.remaining),
    refill: fromRefill(request.refill),
    ratelimits: fromRatelimits(request.ratelimits),
  };
}

/** Only the fields named in the update mask; the mask's paths were checked by validation. */
function changesOf(request: UpdateKeyRequest, now: number): KeyChanges {
  const settings: Record<string, unknown> = { ...settingsOf(request), enabled: request.enabled };
  const changes: Record<string, unknown> = { updatedAt: new Date(now) };
  for (const path of request.updateMask?.paths ?? []) {
    const field = path.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
    changes[field] = settings[field];
  }
  return changes as KeyChanges;
}

function verifyAnswer(
  record: KeyRecord,
  code: VerifyCode,
  remaining: number | undefined,
): MessageInitShape<typeof VerifyKeyResponseSchema> {
  return {
    valid: code === VerifyCode.VALID,
    code,
    keyId: record.keyId,
    keyspaceId: record.keyspaceId,
    name: record.name,
    ownerId: record.ownerId,
    orgId: record.orgId,
    environment: record.environment,
    meta: record.meta,
    scopes: record.scopes,
    roles: record.roles,
    permissions: record.permissions,
    expiresAt: toTimestamp(record.expiresAt),
    enabled: record.enabled,
    remaining: remaining === undefined ? undefined : BigInt(remaining),
  };
}
