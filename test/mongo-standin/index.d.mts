export interface MongoStandin {
  /** mongodb://127.0.0.1:PORT/ of the started stand-in (no database name). */
  readonly uri: string;
  /** Stops the server and drops its data; idempotent. */
  stop(): Promise<void>;
}
/** Starts a fresh in-memory CongoServer on 127.0.0.1 with an OS-chosen port. */
export function startMongoStandin(): Promise<MongoStandin>;
