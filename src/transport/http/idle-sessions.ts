import type http2 from "node:http2";

/**
 * Sends GOAWAY to an HTTP/2 session once it has had no call open for
 * `idleMs`, as grpc-js does on the gRPC port (`grpc.max_connection_idle_ms`).
 * Only calls count: pings and settings do not keep a session alive, and a
 * call in flight, however slow, is never cut.
 */
export function closeWhenIdle(session: http2.Http2Session, idleMs: number): void {
  let open = 0;
  const timer = setTimeout(() => {
    if (open === 0) session.close();
  }, idleMs);
  timer.unref();
  session.on("stream", (stream: http2.Http2Stream) => {
    open += 1;
    stream.once("close", () => {
      open -= 1;
      if (open === 0) timer.refresh();
    });
  });
  session.once("close", () => clearTimeout(timer));
}
