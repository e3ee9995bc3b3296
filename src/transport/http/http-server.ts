import http from "node:http";
import http2 from "node:http2";
import type net from "node:net";
import type { ConnectionLimits } from "../connection-limits.js";
import { listenTcp } from "../tcp-listener.js";
import { closeWhenIdle } from "./idle-sessions.js";

/** A request handler that both HTTP/1.1 and HTTP/2 requests can go to. */
export type HttpHandler = (
  request: http.IncomingMessage | http2.Http2ServerRequest,
  response: http.ServerResponse | http2.Http2ServerResponse,
) => void;

/** A listening HTTP server and how to stop it gracefully. */
export interface HttpListener {
  readonly port: number;
  /** Stops accepting and lets requests in flight finish; past `drainMs`, closes every connection left. */
  close(drainMs: number): Promise<void>;
}

/** The longest an HTTP/1.1 request may take to arrive in full (Node's default). */
const REQUEST_TIMEOUT_MS = 300_000;

/**
 * Serves HTTP/1.1 and cleartext HTTP/2 ("h2c" with prior knowledge, as gRPC
 * clients speak it) on one port. Node has no such server built in, so each new
 * connection's opening bytes pick the protocol: HTTP/2 always opens with a
 * fixed preface. Both protocols get the same bounds: time to open, time idle,
 * and for HTTP/2 a stream cap and a session memory limit.
 */
export function listenHttp(
  handler: HttpHandler,
  port: number,
  host: string,
  limits: ConnectionLimits,
): Promise<HttpListener> {
  const serve = safely(handler);
  const http1 = http.createServer(
    {
      // A request's headers are its handshake; keep-alive connections between requests are idle.
      headersTimeout: limits.handshakeTimeoutMs,
      requestTimeout: Math.max(REQUEST_TIMEOUT_MS, limits.handshakeTimeoutMs),
      connectionsCheckingInterval: Math.max(10, Math.min(30_000, Math.floor(limits.handshakeTimeoutMs / 4))),
      keepAliveTimeout: limits.idleTimeoutMs,
    },
    (request, response) => {
      const { socket } = request; // detached from the request once answered
      response.once("finish", () => {
        if (!request.complete) closeUnreadConnection(socket);
      });
      serve(request, response);
    },
  );
  // http1 never listens itself; this starts its connection tracking (idle
  // sockets, header timeouts) as if it did.
  http1.emit("listening");
  const h2c = http2.createServer(
    { settings: { maxConcurrentStreams: limits.maxConcurrentStreams }, maxSessionMemory: limits.maxSessionMemoryMb },
    serve,
  );
  const sessions = new Set<http2.ServerHttp2Session>();
  h2c.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    closeWhenIdle(session, limits.idleTimeoutMs);
  });
  return listenTcp(host, port, limits.handshakeTimeoutMs, (socket, protocol) => {
    if (protocol === "http2") {
      // The HTTP/2 session reads what is buffered on its next tick; resuming here would drop it.
      h2c.emit("connection", socket);
    } else {
      http1.emit("connection", socket);
      socket.resume();
    }
  }).then((tcp) => ({
    port: tcp.port,
    close: async (drainMs) => {
      // Resolves once every connection, of either protocol, has ended.
      const closed = tcp.close();
      for (const session of sessions) session.close();
      // HTTP/1.1 keep-alive sockets go as soon as their request is answered.
      const sweep = setInterval(() => http1.closeIdleConnections(), 25);
      http1.closeIdleConnections();
      const deadline = setTimeout(() => tcp.destroyConnections(), drainMs);
      await closed;
      clearInterval(sweep);
      clearTimeout(deadline);
    },
  }));
}

/**
 * The handler, kept from throwing: an exception thrown while a request is
 * taken in, before any error handling of the handler's own, would end the
 * process. Such a request is answered 400.
 */
function safely(handler: HttpHandler): HttpHandler {
  return (request, response) => {
    try {
      handler(request, response);
    } catch {
      if (!response.headersSent) response.writeHead(400);
      response.end();
    }
  };
}

/** How long a connection whose request body was refused unread may keep sending before it is cut. */
const LINGER_MS = 1_000;

/**
 * An answer sent before its request was read in full (a refused oversized
 * body, say) leaves the rest of the body in the way of any next request: the
 * connection ends. Closing at once would reset it and could lose the answer in
 * flight, so our side ends first and the rest is cut after a short linger.
 */
function closeUnreadConnection(socket: net.Socket): void {
  socket.end();
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}
