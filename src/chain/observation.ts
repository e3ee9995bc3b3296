import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";
import type { Call, Middleware } from "./call.js";
import { codeName } from "./code-names.js";
import type { FaultLog } from "./fault-log.js";

const OK = codeName("ok");
/** Codes that point at Keyward or its stores rather than at the caller. */
const SERVER_FAULTS = new Set([Code.Internal, Code.Unavailable, Code.Unknown, Code.DataLoss, Code.Unimplemented]);

/** What a call's log line says about it; worked out only when a line is written. */
function fields(rpc: string, call: Call, started: number) {
  return { rpc, requestId: call.requestId, peer: call.peer, ms: Math.round((performance.now() - started) * 100) / 100 };
}

/**
 * One log line and one latency sample per call: method, outcome, duration,
 * request id, caller. Calls that succeed log at debug (VerifyKey runs
 * thousands of times a second); caller errors at info; server faults go to
 * the fault log, which logs the first of a kind at error with its cause and
 * sums up the repeats, so that an outage does not log a stack per call.
 */
export function createObservation(logger: Logger, metrics: Pick<Metrics, "rpc">, faults: FaultLog): Middleware {
  return (next, method) => {
    const rpc = `${method.parent.typeName}/${method.name}`;
    // Promise chaining rather than async/await: one promise fewer per call on the hot path.
    return (request, call) => {
      const started = performance.now();
      return next(request, call).then(
        (response) => {
          metrics.rpc(rpc, OK, (performance.now() - started) / 1000);
          if (logger.isLevelEnabled("debug")) logger.debug({ ...fields(rpc, call, started), code: OK }, "call");
          return response;
        },
        (error: unknown) => {
          // Errors arrive mapped: the error-mapping step sits inside this one.
          const code = ConnectError.from(error).code;
          metrics.rpc(rpc, codeName(code), (performance.now() - started) / 1000);
          const line = {
            ...fields(rpc, call, started),
            code: codeName(code),
            message: error instanceof Error ? error.message : "",
          };
          if (SERVER_FAULTS.has(code)) {
            const cause = error instanceof ConnectError ? error.cause : error;
            faults.fault({ rpc, code: line.code, message: line.message, cause }, line);
          } else {
            logger.info(line, "call rejected");
          }
          throw error;
        },
      );
    };
  };
}
