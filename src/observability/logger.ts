import pino, { type DestinationStream, type Logger } from "pino";

export type { Logger };

/**
 * Structured JSON logs. Keyward never logs request bodies or headers; the
 * redaction list is the second line of defence for fields that could carry a
 * secret if someone logs an object wholesale.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "keyward" },
      redact: {
        paths: ["key", "*.key", "secret", "*.secret", "authorization", "*.authorization", "rootKey", "*.rootKey"],
        censor: "[redacted]",
      },
    },
    destination,
  );
}
