import { describe, expect, it } from "vitest";
import { createFaultLog } from "../../src/chain/fault-log.js";
import { createLogger } from "../../src/observability/logger.js";
import { StoreUnavailableError } from "../../src/ports/store-errors.js";

const INTERVAL_MS = 60_000;

function subject(level = "info") {
  const lines: Record<string, unknown>[] = [];
  let now = 0;
  const log = createFaultLog(
    createLogger(level, { write: (line: string) => void lines.push(JSON.parse(line)) }),
    INTERVAL_MS,
    () => now,
  );
  return {
    log,
    lines,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const redisDown = {
  rpc: "keyward.v1.KeyService/VerifyKey",
  code: "Unavailable",
  message: "Redis is unavailable",
  cause: new StoreUnavailableError("Redis", { cause: new Error("ECONNREFUSED") }),
};

describe("the fault log", () => {
  it("issue 9 item 11i: logs the first fault of a kind with its cause, then one summary per interval", () => {
    const { log, lines, advance } = subject();
    for (let i = 0; i < 1_000; i++) log.fault(redisDown, { rpc: redisDown.rpc, code: redisDown.code });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 50, msg: "call failed", rpc: redisDown.rpc });
    expect(JSON.stringify(lines[0]?.err)).toContain("ECONNREFUSED");

    advance(INTERVAL_MS);
    log.fault(redisDown, { rpc: redisDown.rpc, code: redisDown.code });
    expect(lines.slice(1)).toMatchObject([
      { suppressed: 999, rpc: redisDown.rpc, code: "Unavailable", cause: "StoreUnavailableError" },
      { msg: "call failed", err: expect.anything() },
    ]);
    log.stop();
    expect(lines).toHaveLength(3);
  });

  it("tells kinds apart by method, code, message and cause type", () => {
    const { log, lines } = subject();
    const mongoDown = { ...redisDown, message: "MongoDB is unavailable", cause: new StoreUnavailableError("MongoDB") };
    const internal = { ...redisDown, code: "Internal", message: "internal error", cause: new TypeError("oops") };
    const otherMethod = { ...redisDown, rpc: "keyward.v1.KeyService/CreateKey" };
    for (const kind of [redisDown, mongoDown, internal, otherMethod, redisDown, mongoDown]) log.fault(kind, {});
    expect(lines.map((line) => line.msg)).toEqual(["call failed", "call failed", "call failed", "call failed"]);
    log.stop();
    expect(lines.filter((line) => line.suppressed === 1)).toHaveLength(2);
  });

  it("still gives every call a line at debug, where successful calls have one too", () => {
    const { log, lines } = subject("debug");
    for (let i = 0; i < 10; i++) log.fault(redisDown, { code: "Unavailable" });
    expect(lines.filter((line) => line.code === "Unavailable")).toHaveLength(10);
    expect(lines.filter((line) => line.err !== undefined)).toHaveLength(1);
    log.stop();
  });
});
