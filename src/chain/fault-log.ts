import type { Logger } from "../observability/logger.js";

/** Tells one kind of server fault from another: method, code, what the caller was told and the cause's type. */
export interface FaultKind {
  readonly rpc: string;
  readonly code: string;
  readonly message: string;
  readonly cause: unknown;
}

/**
 * Logs server faults without flooding the log when a dependency is down: the
 * first fault of a kind in an interval is logged at error with its cause,
 * the rest of that interval are counted (and logged at debug, where every call
 * has a line anyway) and summed up in one line when the interval ends or the
 * process stops. Metrics count every call regardless.
 */
export interface FaultLog {
  fault(kind: FaultKind, line: Record<string, unknown>): void;
  /** Logs what is still held back, and stops the timer. */
  stop(): void;
}

/** Kinds tracked at once; past this a new kind is logged in full, untracked (bounded memory). */
const MAX_KINDS = 1_000;

interface Window {
  readonly kind: FaultKind;
  readonly since: number;
  suppressed: number;
}

export function createFaultLog(
  logger: Logger,
  intervalMs: number,
  now: () => number = () => performance.now(),
): FaultLog {
  const windows = new Map<string, Window>();
  const summarize = ({ kind, suppressed }: Window) => {
    if (suppressed === 0) return;
    logger.error(
      { rpc: kind.rpc, code: kind.code, message: kind.message, cause: causeType(kind.cause), suppressed, intervalMs },
      "call failed more times; those lines were held back",
    );
  };
  const closeEnded = () => {
    const at = now();
    for (const [id, window] of windows) {
      if (at - window.since < intervalMs) continue;
      summarize(window);
      windows.delete(id);
    }
  };
  const timer = setInterval(closeEnded, intervalMs);
  timer.unref();

  return {
    fault(kind, line) {
      const id = `${kind.rpc}|${kind.code}|${kind.message}|${causeType(kind.cause)}`;
      const window = windows.get(id);
      const at = now();
      if (window && at - window.since < intervalMs) {
        window.suppressed += 1;
        if (logger.isLevelEnabled("debug")) logger.debug(line, "call failed");
        return;
      }
      if (window) summarize(window);
      logger.error({ ...line, err: kind.cause }, "call failed");
      if (window || windows.size < MAX_KINDS) windows.set(id, { kind, since: at, suppressed: 0 });
    },
    stop() {
      clearInterval(timer);
      for (const window of windows.values()) summarize(window);
      windows.clear();
    },
  };
}

/** "StoreUnavailableError", "TypeError", ...: what went wrong, without the details. */
function causeType(cause: unknown): string {
  if (cause instanceof Error) return cause.name;
  return cause === undefined ? "none" : typeof cause;
}
