import { create } from "@bufbuild/protobuf";
import {
  type KeyDefaults as KeyDefaultsMessage,
  type Keyspace,
  KeyspaceSchema,
  type Role as RoleMessage,
} from "../../gen/keyward/v1/keyspace_pb.js";
import { type UpdateKeyspaceRequest, UpdateKeyspaceRequestSchema } from "../../gen/keyward/v1/keyspace_service_pb.js";
import type { KeyDefaults, KeyspaceChanges, KeyspaceRecord, Role } from "../keyspaces/keyspace-record.js";
import { fromRatelimits, toRatelimitMessage, toTimestamp } from "./key-mapping.js";
import { applyUpdateMask } from "./update-mask.js";

/** Translations between keyspace messages and records. No rules live here. */

export function toKeyspaceMessage(record: KeyspaceRecord): Keyspace {
  return create(KeyspaceSchema, {
    keyspaceId: record.keyspaceId,
    orgId: record.orgId,
    name: record.name,
    description: record.description,
    keyDefaults: {
      prefix: record.keyDefaults.prefix,
      byteLength: record.keyDefaults.byteLength,
      environment: record.keyDefaults.environment,
      ratelimits: record.keyDefaults.ratelimits.map(toRatelimitMessage),
      importedPrefixes: [...(record.keyDefaults.importedPrefixes ?? [])],
    },
    roles: record.roles.map((role) => ({ name: role.name, permissions: [...role.permissions] })),
    createdAt: toTimestamp(record.createdAt),
    updatedAt: toTimestamp(record.updatedAt),
  });
}

export function fromKeyDefaults(defaults: KeyDefaultsMessage | undefined): KeyDefaults {
  return {
    prefix: defaults?.prefix ?? "",
    byteLength: defaults?.byteLength ?? 0,
    environment: defaults?.environment ?? "",
    ratelimits: fromRatelimits(defaults?.ratelimits ?? []),
    ...(defaults?.importedPrefixes.length && { importedPrefixes: [...defaults.importedPrefixes] }),
  };
}

export function fromRoles(roles: readonly RoleMessage[]): Role[] {
  return roles.map((role) => ({ name: role.name, permissions: [...role.permissions] }));
}

/** Only the fields named in the update mask, plus the time of the change. */
export function keyspaceChangesFromUpdate(request: UpdateKeyspaceRequest, now: number): KeyspaceChanges {
  const values = {
    orgId: request.orgId,
    name: request.name,
    description: request.description,
    keyDefaults: fromKeyDefaults(request.keyDefaults),
    roles: fromRoles(request.roles),
  };
  return { ...applyUpdateMask(UpdateKeyspaceRequestSchema, request.updateMask, values), updatedAt: new Date(now) };
}
