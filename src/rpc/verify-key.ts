import { Code, ConnectError } from "@connectrpc/connect";
import { VerifyCode } from "../../gen/keyward/v1/key_pb.js";
import type { KeyService } from "../../gen/keyward/v1/key_service_pb.js";
import { type PermissionQuery, parsePermissionQuery, satisfies } from "../auth/permission-query.js";
import { grants } from "../auth/permissions.js";
import { may, mayAnywhere } from "../auth/principal.js";
import type { Clock } from "../keys/clock.js";
import { effectivePermissions } from "../keys/effective-permissions.js";
import { checkKey } from "../keys/key-checks.js";
import type { KeyHasher } from "../keys/key-hasher.js";
import { parseKey } from "../keys/key-material.js";
import type { KeyRecord } from "../keys/key-record.js";
import type { KeyStore } from "../store/key-store.js";
import type { KeyspaceStore } from "../store/keyspace-store.js";
import type { Call, ServiceHandlers } from "./call.js";
import { toVerifyAnswer } from "./key-mapping.js";

export interface VerifyKeyDeps {
  readonly keys: KeyStore;
  readonly keyspaces: KeyspaceStore;
  readonly hasher: KeyHasher;
  readonly clock: Clock;
}

type VerifyKey = ServiceHandlers<typeof KeyService>["verifyKey"];

const NOT_FOUND = { valid: false, code: VerifyCode.NOT_FOUND } as const;

/**
 * VerifyKey, the hot path. The caller's right to verify is settled and the
 * permission query parsed before any lookup; a malformed key never reaches a
 * store; a key of a keyspace the caller may not verify in is as good as
 * missing. Then: revoked → disabled → expired → permissions → credits.
 */
export function createVerifyKey(deps: VerifyKeyDeps): VerifyKey {
  return async (request, call) => {
    if (call.principal && !mayAnywhere(call.principal, "verify_key")) {
      throw new ConnectError("permission denied", Code.PermissionDenied);
    }
    const query = parseQuery(request.permissionQuery);
    if (!parseKey(request.key)) return NOT_FOUND;
    const hash = deps.hasher(request.key);
    const record = await deps.keys.findByHash(hash);
    if (!record || !mayVerifyIn(call, record.keyspaceId)) return NOT_FOUND;

    let code = checkKey(record, hash, deps.clock());
    if (code === VerifyCode.VALID && query && !(await holds(record, query))) {
      code = VerifyCode.INSUFFICIENT_PERMISSIONS;
    }
    let remaining = record.remaining;
    if (code === VerifyCode.VALID && remaining !== undefined) {
      const left = await deps.keys.spendCredits(record.keyId, 1);
      if (left === undefined) code = VerifyCode.USAGE_EXCEEDED;
      else remaining = left;
    }
    return toVerifyAnswer(record, code, remaining);
  };

  async function holds(record: KeyRecord, query: PermissionQuery): Promise<boolean> {
    // Roles live on the keyspace; fetch it only when the key has any.
    const roles = record.roles.length > 0 ? ((await deps.keyspaces.get(record.keyspaceId))?.roles ?? []) : [];
    const held = effectivePermissions(record, roles);
    return satisfies(query, (permission) => grants(held, permission));
  }
}

function mayVerifyIn(call: Call, keyspaceId: string): boolean {
  return !call.principal || may(call.principal, "verify_key", keyspaceId);
}

function parseQuery(text: string): PermissionQuery | undefined {
  if (text.trim() === "") return undefined;
  const parsed = parsePermissionQuery(text);
  if (parsed.kind === "error") {
    const { message, position } = parsed.error;
    throw new ConnectError(`permission_query: ${message} at position ${position}`, Code.InvalidArgument);
  }
  return parsed.query;
}
