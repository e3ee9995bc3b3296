import { Code, ConnectError } from "@connectrpc/connect";
import type { KeyspaceService } from "../../gen/keyward/v1/keyspace_service_pb.js";
import { mayEverywhere } from "../auth/principal.js";
import type { ServiceHandlers } from "../chain/call.js";
import type { Clock } from "../keys/clock.js";
import type { KeyspaceRecord } from "../keyspaces/keyspace-record.js";
import { KEYSPACE_ID_PATTERN } from "../keyspaces/keyspace-record.js";
import type { KeyspaceRecords } from "../ports/keyspace-records.js";
import { principalOf, targetKeyspace, visibleKeyspaces } from "./authorization.js";
import { fromKeyDefaults, fromRoles, keyspaceChangesFromUpdate, toKeyspaceMessage } from "./keyspace-mapping.js";
import { decodePageToken, pageLimit, toPage } from "./page-token.js";

export interface KeyspaceServiceDeps {
  readonly keyspaces: KeyspaceRecords;
  readonly clock: Clock;
  /** Makes an id for a keyspace created without one. */
  readonly newKeyspaceId: () => string;
}

/** KeyspaceService: keyspaces, their key defaults and their roles. */
export function createKeyspaceService(deps: KeyspaceServiceDeps): ServiceHandlers<typeof KeyspaceService> {
  const { keyspaces, clock } = deps;

  async function existing(keyspaceId: string): Promise<KeyspaceRecord> {
    const record = await keyspaces.get(keyspaceId);
    if (!record) throw new ConnectError("keyspace not found", Code.NotFound);
    return record;
  }

  return {
    async createKeyspace(request, call) {
      if (!request.keyspaceId && !mayEverywhere(principalOf(call), "create")) {
        throw new ConnectError(
          "permission denied: needs keyspace.*.create to create a keyspace without an id",
          Code.PermissionDenied,
        );
      }
      const keyspaceId = request.keyspaceId || deps.newKeyspaceId();
      targetKeyspace(call, "create", keyspaceId);
      // Checked first so that the answer is the same where MongoDB cannot enforce the unique index.
      if (await keyspaces.get(keyspaceId)) throw new ConnectError("keyspace already exists", Code.AlreadyExists);
      const now = new Date(clock());
      const record: KeyspaceRecord = {
        keyspaceId,
        orgId: request.orgId,
        name: request.name,
        description: request.description,
        keyDefaults: fromKeyDefaults(request.keyDefaults),
        roles: fromRoles(request.roles),
        createdAt: now,
        updatedAt: now,
      };
      await keyspaces.insert(record);
      return { keyspace: toKeyspaceMessage(record) };
    },

    async getKeyspace(request, call) {
      targetKeyspace(call, "read", request.keyspaceId);
      return { keyspace: toKeyspaceMessage(await existing(request.keyspaceId)) };
    },

    async listKeyspaces(request, call) {
      const records = await keyspaces.list({
        keyspaces: visibleKeyspaces(call, "read", ""),
        orgId: request.orgId,
        afterKeyspaceId: decodePageToken(request.pageToken, KEYSPACE_ID_PATTERN),
        limit: pageLimit(request.pageSize),
      });
      const { page, nextPageToken } = toPage(records, request.pageSize, (keyspace) => keyspace.keyspaceId);
      return { keyspaces: page.map(toKeyspaceMessage), nextPageToken };
    },

    async updateKeyspace(request, call) {
      targetKeyspace(call, "update", request.keyspaceId);
      await existing(request.keyspaceId);
      const updated = await keyspaces.update(request.keyspaceId, keyspaceChangesFromUpdate(request, clock()));
      if (!updated) throw new ConnectError("keyspace not found", Code.NotFound);
      return { keyspace: toKeyspaceMessage(updated) };
    },
  };
}
