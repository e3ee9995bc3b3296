import { Code, ConnectError } from "@connectrpc/connect";
import {
  type Action,
  type KeyAction,
  keyspacesWhere,
  may,
  mayAnywhere,
  mayEverywhere,
  type Principal,
  permissionFor,
} from "../auth/principal.js";
import type { Call } from "../chain/call.js";
import type { KeyRecord } from "../keys/key-record.js";
import { ROOT_KEYSPACE } from "../keyspaces/builtin-keyspaces.js";
import { CorruptRecordError } from "../ports/corrupt-record-error.js";
import type { KeyRecords } from "../ports/key-records.js";
import type { KeyspaceFilter } from "../ports/keyspace-filter.js";

/**
 * The authorization decisions services make, in the order that keeps targets
 * secret: a caller is refused before any lookup when it may not take the action
 * anywhere, and a key it may not see is refused exactly like a key that does
 * not exist. The `target…` functions also record what the call concerns in
 * `call.target`, which the audit log reads (refusals included); nothing else
 * here touches the call.
 */

const denied = () => new ConnectError("permission denied", Code.PermissionDenied);

/** The authenticated caller; the authentication step guarantees one on every management method. */
export function principalOf(call: Call): Principal {
  if (!call.principal) throw new Error(`${call.method.name} ran without authentication`);
  return call.principal;
}

/**
 * Records a keyspace the caller named in its request as the call's target and
 * requires the action there: PERMISSION_DENIED naming the missing permission
 * (the caller chose the keyspace, so naming it reveals nothing).
 */
export function targetKeyspace(call: Call, action: Action, keyspaceId: string): void {
  call.target = { ...call.target, keyspaceId };
  if (!may(principalOf(call), action, keyspaceId)) {
    throw new ConnectError(`permission denied: needs ${permissionFor(keyspaceId, action)}`, Code.PermissionDenied);
  }
}

/**
 * Records the key (and, once found, its keyspace) as the call's target, then
 * answers the key if the caller may act on it. NOT_FOUND only for callers who could see
 * the key wherever it lived; everyone else gets PERMISSION_DENIED whether the
 * key is missing or just not theirs. A stored key that cannot be read is
 * DATA_LOSS by the same rule: only to callers who could see it.
 */
export async function targetKey(
  call: Call,
  keys: Pick<KeyRecords, "get">,
  keyId: string,
  action: KeyAction,
): Promise<KeyRecord> {
  const principal = principalOf(call);
  call.target = { keyId };
  if (!mayAnywhere(principal, action)) throw denied();
  const record = await keys.get(keyId).catch((error: unknown) => {
    throw error instanceof CorruptRecordError ? unreadable(call, principal, action, error) : error;
  });
  if (!record) throw seesEverything(principal, action) ? new ConnectError("key not found", Code.NotFound) : denied();
  call.target = { keyId, keyspaceId: record.keyspaceId };
  if (!may(principal, action, record.keyspaceId)) throw denied();
  return record;
}

/** Whether the principal could see a key in any keyspace, root included. */
function seesEverything(principal: Principal, action: Action): boolean {
  return mayEverywhere(principal, action) && may(principal, action, ROOT_KEYSPACE);
}

/**
 * A damaged record: DATA_LOSS for a caller who may act in its keyspace (or in
 * every keyspace, when even that cannot be read), the plain refusal for anyone
 * else. The error, which names the key, stays the cause, for the log.
 */
function unreadable(call: Call, principal: Principal, action: Action, error: CorruptRecordError): ConnectError {
  const { keyspaceId } = error;
  if (keyspaceId !== undefined) call.target = { ...call.target, keyspaceId };
  const mayKnow = keyspaceId === undefined ? seesEverything(principal, action) : may(principal, action, keyspaceId);
  if (!mayKnow) return denied();
  return new ConnectError(
    "the key's stored record is damaged and cannot be read",
    Code.DataLoss,
    undefined,
    undefined,
    error,
  );
}

/**
 * The keyspaces a listing may show: the requested one if allowed (recorded as
 * the call's target), otherwise every keyspace the caller may see.
 */
export function visibleKeyspaces(call: Call, action: Action, requested: string): KeyspaceFilter {
  if (requested) {
    targetKeyspace(call, action, requested);
    return { in: [requested] };
  }
  const principal = principalOf(call);
  const scope = keyspacesWhere(principal, action);
  if (scope === "all") return may(principal, action, ROOT_KEYSPACE) ? {} : { notIn: [ROOT_KEYSPACE] };
  if (scope.length === 0) throw denied();
  return { in: scope };
}
