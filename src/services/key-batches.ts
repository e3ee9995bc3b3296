import { create, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { createValidator } from "@bufbuild/protovalidate";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  type CreateKeyRequest,
  CreateKeyRequestSchema,
  type ImportKey,
  ImportKeySchema,
  type KeyResult,
  KeyResultSchema,
} from "../../gen/keyward/v1/key_service_pb.js";
import { type KeyAction, may, permissionFor } from "../auth/principal.js";
import type { Call } from "../chain/call.js";
import { codeName } from "../chain/code-names.js";
import type { Clock } from "../keys/clock.js";
import type { ImportedKeyHasher, KeyHasher } from "../keys/key-hasher.js";
import { parseKey } from "../keys/key-material.js";
import type { KeyRecord } from "../keys/key-record.js";
import { DEFAULT_KEYSPACE, effectiveKeyDefaults, ROOT_KEYSPACE } from "../keyspaces/builtin-keyspaces.js";
import { KEYSPACE_ID_PATTERN, type KeyspaceRecord } from "../keyspaces/keyspace-record.js";
import type { KeyStore } from "../ports/key-store.js";
import type { KeyspaceRecords } from "../ports/keyspace-records.js";
import { DuplicateRecordError } from "../ports/store-errors.js";
import { principalOf } from "./authorization.js";
import { checkGrant, checkMeta, type NewSecret, newKeyRecord } from "./new-key.js";

export interface KeyBatchDeps {
  readonly keys: KeyStore;
  readonly keyspaces: KeyspaceRecords;
  readonly hasher: KeyHasher;
  readonly importedHasher: ImportedKeyHasher;
  readonly clock: Clock;
  readonly newKeyId: () => string;
  /** A fresh secret for a key made by CreateKey's settings in the keyspace, as CreateKey makes it. */
  readonly newSecret: (request: CreateKeyRequest, keyspace: KeyspaceRecord) => NewSecret & { key: string };
}

/** An item that is ready to store, or the error it met (with the keyspace it named, for the audit log). */
type Prepared = { record: KeyRecord; key: string } | { error: ConnectError; keyspaceId: string };

/** How long a shown start may be, and what a SHA-256 looks like in hex. */
const MAX_START_LENGTH = 32;
const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;

/**
 * CreateKeys and ImportKeys: up to 1,000 items, each checked by the rules
 * its single form follows (protovalidate, permissions, meta's size), each
 * answered on its own; the valid ones are stored in one round trip. The
 * audit log gets one event per item (call.items).
 */
export function createKeyBatches(deps: KeyBatchDeps) {
  const validator = createValidator();
  const { keys, keyspaces, clock } = deps;

  /** The keyspaces a batch names, read once each. */
  function keyspaceReader() {
    const read = new Map<string, Promise<KeyspaceRecord | undefined>>();
    return (keyspaceId: string) => {
      let keyspace = read.get(keyspaceId);
      if (!keyspace) {
        keyspace = keyspaces.get(keyspaceId);
        read.set(keyspaceId, keyspace);
      }
      return keyspace;
    };
  }

  /** The checks CreateKey makes before it makes a secret: rules, permission, keyspace, grants, meta. */
  async function admit(
    call: Call,
    settings: CreateKeyRequest,
    action: KeyAction,
    keyspaceOf: (keyspaceId: string) => Promise<KeyspaceRecord | undefined>,
    field = "",
  ): Promise<KeyspaceRecord> {
    const keyspaceId = settings.keyspaceId || DEFAULT_KEYSPACE;
    const principal = principalOf(call);
    if (!may(principal, action, keyspaceId)) {
      throw new ConnectError(`permission denied: needs ${permissionFor(keyspaceId, action)}`, Code.PermissionDenied);
    }
    checkGrant(principal, keyspaceId, settings.permissions);
    const keyspace = await keyspaceOf(keyspaceId);
    if (!keyspace) throw new ConnectError("keyspace not found", Code.NotFound);
    checkMeta(settings, `${field}meta`);
    return keyspace;
  }

  function checkRules<D extends DescMessage>(schema: D, item: MessageShape<D>): void {
    const result = validator.validate(schema, item);
    if (result.kind !== "valid") throw new ConnectError(result.error.message, Code.InvalidArgument);
  }

  async function prepared(
    settings: CreateKeyRequest | undefined,
    work: () => Promise<{ record: KeyRecord; key: string }>,
  ): Promise<Prepared> {
    try {
      return await work();
    } catch (error) {
      // Anything but a refusal of this item (a store outage, a fault) fails the whole call.
      if (!(error instanceof ConnectError)) throw error;
      // As CreateKey records the keyspace a caller named, where it is well-formed.
      const named = settings?.keyspaceId || DEFAULT_KEYSPACE;
      return { error, keyspaceId: KEYSPACE_ID_PATTERN.test(named) ? named : "" };
    }
  }

  /** Stores the prepared items in one round trip and answers each, recording them for the audit log. */
  async function store(call: Call, items: readonly Prepared[], showKey: boolean) {
    const ready = items.filter((item): item is { record: KeyRecord; key: string } => "record" in item);
    const outcomes = await keys.insertMany(ready.map((item) => item.record));
    const stored = new Map(ready.map((item, i) => [item, outcomes[i]]));
    const results: KeyResult[] = [];
    call.items = [];
    for (const item of items) {
      const failure = "record" in item ? storeError(stored.get(item)) : item.error;
      const keyspaceId = "record" in item ? item.record.keyspaceId : item.keyspaceId;
      if (failure) {
        results.push(
          create(KeyResultSchema, {
            result: { case: "error", value: { code: failure.code, message: failure.rawMessage } },
          }),
        );
        call.items.push({ keyspaceId, keyId: "", outcome: codeName(failure.code) });
      } else if ("record" in item) {
        const { keyId } = item.record;
        results.push(
          create(KeyResultSchema, { result: { case: "created", value: { keyId, key: showKey ? item.key : "" } } }),
        );
        call.items.push({ keyspaceId, keyId, outcome: "OK" });
      }
    }
    return { results };
  }

  /** The import's hash and shown start, from its plaintext or its SHA-256. */
  function importedSecret(item: ImportKey, prefix: string, byteLength: number): NewSecret {
    const { secret } = item;
    const lead = `${prefix}_`;
    if (secret.case === "plaintext") {
      const key = secret.value;
      if (!key.startsWith(lead) || key.length === lead.length) {
        throw new ConnectError(`plaintext: must read "${lead}" and then the key's body`, Code.InvalidArgument);
      }
      // A key in Keyward's own format (another Keyward's) is stored as Keyward stores its own.
      const hash = parseKey(key) ? deps.hasher(key) : deps.importedHasher.ofKey(key);
      const start = item.start || key.slice(0, Math.min(lead.length + 4, MAX_START_LENGTH));
      return { hash, start, prefix, byteLength };
    }
    const text = secret.value ?? "";
    const digest = HEX_SHA256.test(text) ? Buffer.from(text, "hex") : Buffer.from(text, "base64");
    if (digest.length !== 32) throw new ConnectError("sha256: must be 32 bytes", Code.InvalidArgument);
    return { hash: deps.importedHasher.ofSha256(digest), start: item.start || lead, prefix, byteLength };
  }

  return {
    async createKeys(request: { keys: CreateKeyRequest[] }, call: Call) {
      const keyspaceOf = keyspaceReader();
      const now = new Date(clock());
      const items = await Promise.all(
        request.keys.map((settings) =>
          prepared(settings, async () => {
            checkRules(CreateKeyRequestSchema, settings);
            const keyspace = await admit(call, settings, "create_key", keyspaceOf);
            const { key, ...secret } = deps.newSecret(settings, keyspace);
            const principal = principalOf(call);
            return {
              key,
              record: newKeyRecord({ request: settings, keyspace, secret, keyId: deps.newKeyId(), principal, now }),
            };
          }),
        ),
      );
      return store(call, items, true);
    },

    async importKeys(request: { keys: ImportKey[] }, call: Call) {
      const keyspaceOf = keyspaceReader();
      const now = new Date(clock());
      const items = await Promise.all(
        request.keys.map((item) =>
          prepared(item.settings, async () => {
            checkRules(ImportKeySchema, item);
            const settings = item.settings ?? create(CreateKeyRequestSchema);
            if (!settings.prefix) {
              throw new ConnectError("settings.prefix: an imported key needs the prefix it has", Code.InvalidArgument);
            }
            if ((settings.keyspaceId || DEFAULT_KEYSPACE) === ROOT_KEYSPACE) {
              throw new ConnectError("root keys cannot be imported", Code.FailedPrecondition);
            }
            const keyspace = await admit(call, settings, "import_key", keyspaceOf, "settings.");
            const byteLength = settings.byteLength ?? effectiveKeyDefaults(keyspace).byteLength;
            const secret = importedSecret(item, settings.prefix, byteLength);
            const principal = principalOf(call);
            return {
              key: "",
              record: newKeyRecord({ request: settings, keyspace, secret, keyId: deps.newKeyId(), principal, now }),
            };
          }),
        ),
      );
      return store(call, items, false);
    },
  };
}

/** A store's answer for one record, as the caller sees it. */
function storeError(error: Error | undefined): ConnectError | undefined {
  if (!error) return undefined;
  if (error instanceof DuplicateRecordError)
    return new ConnectError("a key with this secret already exists", Code.AlreadyExists);
  return new ConnectError("internal error", Code.Internal, undefined, undefined, error);
}
