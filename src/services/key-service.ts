import { durationMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import type { CreateKeyRequest, KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { mayGrant } from "../auth/principal.js";
import type { Call, ServiceHandlers } from "../chain/call.js";
import type { Clock } from "../keys/clock.js";
import type { ImportedKeyHasher, KeyHasher } from "../keys/key-hasher.js";
import { KEY_ID_PATTERN } from "../keys/key-id.js";
import { reroll, revocation } from "../keys/key-lifecycle.js";
import { generateKey, type RandomBytes } from "../keys/key-material.js";
import type { KeyRecord } from "../keys/key-record.js";
import { DEFAULT_KEYSPACE, effectiveKeyDefaults, ROOT_KEYSPACE } from "../keyspaces/builtin-keyspaces.js";
import type { KeyspaceRecord } from "../keyspaces/keyspace-record.js";
import type { KeyStore } from "../ports/key-store.js";
import type { KeyspaceRecords } from "../ports/keyspace-records.js";
import { applyDueRefill } from "../verification/credits.js";
import { principalOf, targetKey, targetKeyspace, visibleKeyspaces } from "./authorization.js";
import { createKeyBatches } from "./key-batches.js";
import { changesFromUpdate, toKeyMessage } from "./key-mapping.js";
import { checkGrant, checkMeta, newKeyRecord } from "./new-key.js";
import { decodePageToken, pageLimit, toPage } from "./page-token.js";

export interface KeyServiceDeps {
  readonly keys: KeyStore;
  readonly keyspaces: KeyspaceRecords;
  readonly hasher: KeyHasher;
  /** How keys without Keyward's checksum are stored (ImportKeys). */
  readonly importedHasher: ImportedKeyHasher;
  readonly clock: Clock;
  readonly newKeyId: () => string;
  readonly random?: RandomBytes;
  /** The root key that KEYWARD_ROOT_KEY stands for; only the environment may change it. */
  readonly bootstrapKeyId: string;
  /** VerifyKey, made apart (src/services/verify-key.ts): the verification use case in the API's terms. */
  readonly verifyKey: ServiceHandlers<typeof KeyService>["verifyKey"];
}

/** KeyService: the life of a key from creation to deletion, and its verification. */
export function createKeyService(deps: KeyServiceDeps): ServiceHandlers<typeof KeyService> {
  const { keys, keyspaces, hasher, clock } = deps;

  function secretFor(prefix: string, byteLength: number) {
    const key = generateKey(prefix, byteLength, deps.random);
    return { key, hash: hasher(key), start: key.slice(0, prefix.length + 5), prefix, byteLength };
  }

  /** A new secret for a key made by CreateKey's settings in `keyspace`. */
  function newSecret(request: CreateKeyRequest, keyspace: KeyspaceRecord) {
    const defaults = effectiveKeyDefaults(keyspace);
    return secretFor(request.prefix || defaults.prefix, request.byteLength ?? defaults.byteLength);
  }

  /**
   * The key to change, refusing the bootstrap root key, which only KEYWARD_ROOT_KEY controls, and
   * any root key holding a permission the caller lacks: changing a key (rerolling it above all)
   * hands over its power, so only someone at least as strong may do it.
   */
  async function changeableKey(call: Call, keyId: string, action: "update_key" | "revoke_key" | "delete_key") {
    const record = await targetKey(call, keys, keyId, action);
    if (record.keyId === deps.bootstrapKeyId) {
      throw new ConnectError("the bootstrap root key is managed by KEYWARD_ROOT_KEY", Code.FailedPrecondition);
    }
    if (record.keyspaceId === ROOT_KEYSPACE && !mayGrant(principalOf(call), record.permissions)) {
      throw new ConnectError(
        "permission denied: a root key cannot change a root key that holds permissions it lacks",
        Code.PermissionDenied,
      );
    }
    return record;
  }

  async function saved(keyId: string, changes: Parameters<KeyStore["update"]>[1]): Promise<KeyRecord> {
    const record = await keys.update(keyId, changes);
    if (!record) throw new ConnectError("key not found", Code.NotFound);
    return record;
  }

  return {
    async createKey(request, call) {
      const keyspaceId = request.keyspaceId || DEFAULT_KEYSPACE;
      targetKeyspace(call, "create_key", keyspaceId);
      checkGrant(principalOf(call), keyspaceId, request.permissions);
      const keyspace = await keyspaces.get(keyspaceId);
      if (!keyspace) throw new ConnectError("keyspace not found", Code.NotFound);
      const { key, ...secret } = newSecret(request, keyspace);
      checkMeta(request);
      const record = newKeyRecord({
        request,
        keyspace,
        secret,
        keyId: deps.newKeyId(),
        principal: principalOf(call),
        now: new Date(clock()),
      });
      await keys.insert(record);
      return { keyId: record.keyId, key };
    },

    ...createKeyBatches({ ...deps, newSecret }),

    async getKey(request, call) {
      return { key: toKeyMessage(await targetKey(call, keys, request.keyId, "read_key"), clock()) };
    },

    async listKeys(request, call) {
      const records = await keys.list({
        keyspaces: visibleKeyspaces(call, "read_key", request.keyspaceId),
        ownerId: request.ownerId,
        orgId: request.orgId,
        afterKeyId: decodePageToken(request.pageToken, KEY_ID_PATTERN),
        limit: pageLimit(request.pageSize),
      });
      const { page, nextPageToken } = toPage(records, request.pageSize, (record) => record.keyId);
      const now = clock();
      return { keys: page.map((record) => toKeyMessage(record, now)), nextPageToken };
    },

    async updateKey(request, call) {
      const record = await changeableKey(call, request.keyId, "update_key");
      checkMeta(request);
      const changes = changesFromUpdate(request, clock());
      // Credits set by hand are this period's: a refill that was due happens first, not over them.
      if (changes.permissions) checkGrant(principalOf(call), record.keyspaceId, changes.permissions);
      if ("remaining" in changes) await applyDueRefill(keys, record, clock());
      return { key: toKeyMessage(await saved(record.keyId, changes), clock()) };
    },

    verifyKey: deps.verifyKey,

    async revokeKey(request, call) {
      const record = await changeableKey(call, request.keyId, "revoke_key");
      const changes = revocation(record, request.reason, clock());
      const revoked = changes ? await saved(record.keyId, changes) : record;
      return { key: toKeyMessage(revoked, clock()) };
    },

    async rerollKey(request, call) {
      const record = await changeableKey(call, request.keyId, "update_key");
      if (record.revoked) throw new ConnectError("key is revoked", Code.FailedPrecondition);
      const { key, ...secret } = secretFor(record.prefix, record.byteLength);
      const graceMs = request.gracePeriod ? durationMs(request.gracePeriod) : 0;
      await saved(record.keyId, reroll(record, secret, graceMs, clock()));
      return { keyId: record.keyId, key };
    },

    async updateCredits(request, call) {
      const record = await changeableKey(call, request.keyId, "update_key");
      const { operation } = request;
      const change = operation.case === "add" ? { add: Number(operation.value) } : { set: Number(operation.value) };
      // Added to this period's credits, not to last period's that a refill is about to replace.
      await applyDueRefill(keys, record, clock());
      const remaining = await keys.changeCredits(record.keyId, change);
      if (remaining === undefined) {
        throw new ConnectError("key has no credit limit: set one with UpdateKey (remaining)", Code.FailedPrecondition);
      }
      return { remaining: BigInt(remaining) };
    },

    async deleteKey(request, call) {
      const record = await changeableKey(call, request.keyId, "delete_key");
      if (!(await keys.delete(record.keyId))) throw new ConnectError("key not found", Code.NotFound);
      return {};
    },
  };
}
