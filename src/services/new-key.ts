import { Code, ConnectError } from "@connectrpc/connect";
import type { CreateKeyRequest } from "../../gen/keyward/v1/key_service_pb.js";
import { mayGrant, type Principal } from "../auth/principal.js";
import type { KeyRecord } from "../keys/key-record.js";
import { MAX_META_BYTES, metaFits } from "../keys/meta.js";
import { effectiveKeyDefaults, ROOT_KEYSPACE } from "../keyspaces/builtin-keyspaces.js";
import type { KeyspaceRecord } from "../keyspaces/keyspace-record.js";
import { settingsFromRequest } from "./key-mapping.js";

/** What CreateKey, CreateKeys and ImportKeys share: a new key's record from CreateKey's settings. */

/** No protovalidate rule can measure a Struct, so meta's size is checked here. */
export function checkMeta(request: Pick<CreateKeyRequest, "meta">, field = "meta"): void {
  if (!metaFits(request.meta)) {
    throw new ConnectError(`${field}: must be at most ${MAX_META_BYTES} bytes as JSON`, Code.InvalidArgument);
  }
}

/** Root keys cannot be given rights their creator lacks. */
export function checkGrant(principal: Principal, keyspaceId: string, permissions: readonly string[]): void {
  if (keyspaceId === ROOT_KEYSPACE && !mayGrant(principal, permissions)) {
    throw new ConnectError(
      "permission denied: a root key cannot grant permissions it does not hold",
      Code.PermissionDenied,
    );
  }
}

/** The secret's side of a new record: what is stored of it and how it is shown. */
export interface NewSecret {
  readonly hash: string;
  readonly start: string;
  readonly prefix: string;
  readonly byteLength: number;
}

/** The record of a new key in `keyspace`, with the request's settings and the keyspace's defaults for the rest. */
export function newKeyRecord(options: {
  readonly request: CreateKeyRequest;
  readonly keyspace: KeyspaceRecord;
  readonly secret: NewSecret;
  readonly keyId: string;
  readonly principal: Principal;
  readonly now: Date;
}): KeyRecord {
  const { request, keyspace, secret, now } = options;
  const defaults = effectiveKeyDefaults(keyspace);
  const settings = settingsFromRequest(request, now.getTime());
  return {
    ...settings,
    keyId: options.keyId,
    keyspaceId: keyspace.keyspaceId,
    hash: secret.hash,
    retiredSecrets: [],
    prefix: secret.prefix,
    byteLength: secret.byteLength,
    start: secret.start,
    enabled: request.enabled ?? true,
    environment: settings.environment || defaults.environment,
    ratelimits: settings.ratelimits.length > 0 ? settings.ratelimits : [...defaults.ratelimits],
    createdBy: request.createdBy || options.principal.keyId,
    createdAt: now,
    updatedAt: now,
    revoked: false,
    revocationReason: "",
  };
}
