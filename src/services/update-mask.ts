import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import type { FieldMask } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";

/** New values for the fields of an update request, each under the field's local name (`ownerId` for `owner_id`). */
export type UpdatableValues<Desc extends DescMessage> = { readonly [K in keyof MessageShape<Desc>]?: unknown };

/**
 * The values the update mask names, and only those. Each path must be the
 * proto name of a field of the request message (`owner_id`) whose value the
 * caller supplied, under that field's local name; a value that is undefined is
 * kept, so that a named field left unset is cleared. Validation admits whole
 * field names only; anything else is refused here too, so that no path can
 * reach a store as a dotted field name.
 */
export function applyUpdateMask<Desc extends DescMessage, Values extends UpdatableValues<Desc>>(
  schema: Desc,
  mask: FieldMask | undefined,
  values: Values,
): Partial<Values> {
  const picked: Partial<Values> = {};
  for (const path of mask?.paths ?? []) {
    const field = schema.fields.find((candidate) => candidate.name === path);
    const name = field?.localName as keyof Values | undefined;
    if (name === undefined || !Object.hasOwn(values, name)) {
      throw new ConnectError("update_mask: names a field that cannot be changed", Code.InvalidArgument);
    }
    picked[name] = values[name];
  }
  return picked;
}
