import { create } from "@bufbuild/protobuf";
import {
  type KeyDefaults as KeyDefaultsMessage,
  type Keyspace,
  KeyspaceSchema,
  type Role as RoleMessage,
} from "../../gen/keyward/v1/keyspace_pb.js";
import type { UpdateKeyspaceRequest } from "../../gen/keyward/v1/keyspace_service_pb.js";
import type { KeyDefaults, KeyspaceChanges, KeyspaceRecord, Role } from "../keyspaces/keyspace-record.js";
import { fromRatelimits, toRatelimitMessage, toTimestamp } from "./key-mapping.js";

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
  };
}

export function fromRoles(roles: readonly RoleMessage[]): Role[] {
  return roles.map((role) => ({ name: role.name, permissions: [...role.permissions] }));
}

/** Only the fields named in the update mask, plus the time of the change. */
export function keyspaceChangesFromUpdate(request: UpdateKeyspaceRequest, now: number): KeyspaceChanges {
  const values: Record<string, unknown> = {
    org_id: ["orgId", request.orgId],
    name: ["name", request.name],
    description: ["description", request.description],
    key_defaults: ["keyDefaults", fromKeyDefaults(request.keyDefaults)],
    roles: ["roles", fromRoles(request.roles)],
  };
  const changes: Record<string, unknown> = { updatedAt: new Date(now) };
  for (const path of request.updateMask?.paths ?? []) {
    const [field, value] = values[path] as [string, unknown];
    changes[field] = value;
  }
  return changes as KeyspaceChanges;
}
