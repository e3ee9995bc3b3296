import { StoreUnavailableError } from "../../ports/store-errors.js";

/** Runs one Redis call; any failure (down, timed out, refused) becomes StoreUnavailableError. */
export async function redisCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new StoreUnavailableError("Redis", { cause: error });
  }
}
