import type { ConnectError } from "@connectrpc/connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { Metadata, type ServiceError, type status } from "@grpc/grpc-js";

const DETAILS = "grpc-status-details-bin";

/**
 * A ConnectError in grpc-js terms: the same code and message, and the same
 * `grpc-status-details-bin` trailer that connect-node would send, so callers
 * see identical errors on both ports.
 */
export function toGrpcError(error: ConnectError): Partial<ServiceError> {
  const metadata = new Metadata();
  const details = setTrailerStatus(new Headers(), error).get(DETAILS);
  if (details) metadata.set(DETAILS, Buffer.from(details, "base64"));
  // Connect's codes are gRPC's codes, number for number.
  return { code: error.code as number as status, details: error.rawMessage, metadata };
}
