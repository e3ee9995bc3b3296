import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import type { connectNodeAdapter } from "@connectrpc/connect-node";

/** A request handler that both HTTP/1.1 and HTTP/2 requests can go to, as connect-node makes them. */
export type HttpHandler = ReturnType<typeof connectNodeAdapter>;

/** A listening HTTP server and how to stop it gracefully. */
export interface HttpListener {
  readonly port: number;
  /** Stops accepting and lets requests in flight finish; past `drainMs`, closes every connection left. */
  close(drainMs: number): Promise<void>;
}

const HTTP2_PREFACE = Buffer.from("PRI * HTTP/2.0");

/**
 * Serves HTTP/1.1 and cleartext HTTP/2 ("h2c" with prior knowledge, as gRPC
 * clients speak it) on one port. Node has no such server built in, so each new
 * connection's first bytes pick the protocol: HTTP/2 always opens with a fixed
 * preface.
 */
export function listenHttp(handler: HttpHandler, port: number, host: string): Promise<HttpListener> {
  const http1 = http.createServer(handler);
  // http1 never listens itself; this starts its connection tracking (idle
  // sockets, header timeouts) as if it did.
  http1.emit("listening");
  const h2c = http2.createServer(handler);
  const sessions = new Set<http2.ServerHttp2Session>();
  h2c.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  // Every connection, whichever protocol it turns out to speak, so that the drain deadline reaches all.
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    routeConnection(socket, http1, h2c);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const address = server.address() as net.AddressInfo;
      resolve({
        port: address.port,
        close: async (drainMs) => {
          // Resolves once every connection, of either protocol, has ended.
          const closed = new Promise((done) => server.close(done));
          for (const session of sessions) session.close();
          // HTTP/1.1 keep-alive sockets go as soon as their request is answered.
          const sweep = setInterval(() => http1.closeIdleConnections(), 25);
          http1.closeIdleConnections();
          const deadline = setTimeout(() => {
            for (const socket of sockets) socket.destroy();
          }, drainMs);
          await closed;
          clearInterval(sweep);
          clearTimeout(deadline);
        },
      });
    });
  });
}

function routeConnection(socket: net.Socket, http1: http.Server, h2c: http2.Http2Server): void {
  let head = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    head = Buffer.concat([head, chunk]);
    const length = Math.min(head.length, HTTP2_PREFACE.length);
    const isHttp2 = head.subarray(0, length).equals(HTTP2_PREFACE.subarray(0, length));
    if (isHttp2 && head.length < HTTP2_PREFACE.length) return; // wait for the whole preface
    socket.off("data", onData);
    socket.pause();
    socket.unshift(head);
    if (isHttp2) {
      // The HTTP/2 session reads what is buffered on its next tick; resuming here would drop it.
      h2c.emit("connection", socket);
    } else {
      http1.emit("connection", socket);
      socket.resume();
    }
  };
  socket.on("data", onData);
}
