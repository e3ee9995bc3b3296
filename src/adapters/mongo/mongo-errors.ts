import { MongoError, MongoNetworkError, MongoServerSelectionError, MongoTopologyClosedError } from "mongodb";
import { DuplicateRecordError, StoreUnavailableError } from "../../ports/store-errors.js";

const DUPLICATE_KEY = 11000;
// The driver lets some socket errors through unwrapped (EPIPE when the server
// has just gone away, for one); inside a driver call they mean the same thing.
const NETWORK_ERROR_CODES = new Set(["EPIPE", "ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EHOSTUNREACH", "ENOTCONN"]);

/** Turns driver errors into the store's errors; anything unexpected passes through unchanged. */
export function translateMongoError(error: unknown): unknown {
  if (
    error instanceof MongoServerSelectionError ||
    error instanceof MongoNetworkError ||
    error instanceof MongoTopologyClosedError ||
    NETWORK_ERROR_CODES.has((error as NodeJS.ErrnoException | undefined)?.code ?? "")
  ) {
    return new StoreUnavailableError("MongoDB", { cause: error });
  }
  if (error instanceof MongoError && error.code === DUPLICATE_KEY) {
    return new DuplicateRecordError("key", { cause: error });
  }
  return error;
}

/** Runs one driver call, translating its errors. */
export async function mongoCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw translateMongoError(error);
  }
}
