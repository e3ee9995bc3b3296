import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "../logger.js";
import type { Metrics } from "../metrics/metrics.js";
import type { Middleware } from "./call.js";

/** Codes that point at Keyward or its stores rather than at the caller. */
const SERVER_FAULTS = new Set([Code.Internal, Code.Unavailable, Code.Unknown, Code.DataLoss, Code.Unimplemented]);

/**
 * One log line and one latency sample per call: method, outcome, duration,
 * request id, caller. Calls that succeed log at debug (VerifyKey runs
 * thousands of times a second); caller errors at info; server faults at error
 * with their cause.
 */
export function createObservation(logger: Logger, metrics: Pick<Metrics, "rpc">): Middleware {
  return (next, method) => {
    const rpc = `${method.parent.typeName}/${method.name}`;
    // Promise chaining rather than async/await: one promise fewer per call on the hot path.
    return (request, call) => {
      const started = performance.now();
      const fields = () => ({
        rpc,
        requestId: call.requestId,
        peer: call.peer,
        ms: Math.round((performance.now() - started) * 100) / 100,
      });
      return next(request, call).then(
        (response) => {
          metrics.rpc(rpc, "OK", (performance.now() - started) / 1000);
          if (logger.isLevelEnabled("debug")) logger.debug({ ...fields(), code: "ok" }, "call");
          return response;
        },
        (error: unknown) => {
          const code = error instanceof ConnectError ? error.code : Code.Unknown;
          metrics.rpc(rpc, Code[code], (performance.now() - started) / 1000);
          const line = { ...fields(), code: Code[code], message: error instanceof Error ? error.message : "" };
          if (SERVER_FAULTS.has(code)) {
            logger.error({ ...line, err: error instanceof ConnectError ? error.cause : error }, "call failed");
          } else {
            logger.info(line, "call rejected");
          }
          throw error;
        },
      );
    };
  };
}
