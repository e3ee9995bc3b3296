import { type DescMessage, fromBinary, type Message, ScalarType } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { Code, ConnectError } from "@connectrpc/connect";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Decodes a request, or answers the INVALID_ARGUMENT error to send when the
 * bytes are not a valid message. Invalid UTF-8 in a string field (garbage
 * bytes in a key id, say) names the field, as a validation error would.
 */
export function decodeRequest(schema: DescMessage, bytes: Uint8Array): Message | ConnectError {
  try {
    return fromBinary(schema, bytes);
  } catch (error) {
    const field = fieldWithInvalidUtf8(schema, bytes);
    const message = field ? `${field}: not valid UTF-8` : `request is not a valid ${schema.typeName} message`;
    return new ConnectError(message, Code.InvalidArgument, undefined, undefined, error);
  }
}

function fieldWithInvalidUtf8(schema: DescMessage, bytes: Uint8Array): string | undefined {
  try {
    const reader = new BinaryReader(bytes);
    while (reader.pos < reader.len) {
      const [number, wireType] = reader.tag();
      const field = schema.fields.find((candidate) => candidate.number === number);
      const isString =
        field?.fieldKind === "scalar" || field?.fieldKind === "list" ? field.scalar === ScalarType.STRING : false;
      if (!isString || wireType !== WireType.LengthDelimited) {
        reader.skip(wireType, number);
        continue;
      }
      try {
        strictUtf8.decode(reader.bytes());
      } catch {
        return field?.name;
      }
    }
  } catch {
    // Not even the framing is intact; nothing more specific to say.
  }
  return undefined;
}
