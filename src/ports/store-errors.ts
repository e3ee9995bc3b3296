/** The store could not be reached or did not answer in time. Maps to UNAVAILABLE; the cause stays in the logs. */
export class StoreUnavailableError extends Error {
  override readonly name = "StoreUnavailableError";
  constructor(store: string, options?: { cause?: unknown }) {
    super(`${store} is unavailable`, options);
  }
}

/** A record with the same unique field (key id or secret hash) already exists. */
export class DuplicateRecordError extends Error {
  override readonly name = "DuplicateRecordError";
  constructor(what: string, options?: { cause?: unknown }) {
    super(`duplicate ${what}`, options);
  }
}
