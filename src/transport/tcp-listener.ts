import net from "node:net";
import { awaitOpening, type OpeningProtocol } from "./handshake.js";

/** A listening TCP port whose connections are handed to a protocol server once they have opened. */
export interface TcpListener {
  readonly port: number;
  /** Stops accepting and drops connections that have not opened yet; resolves once every connection has ended. */
  close(): Promise<void>;
  /** Destroys every connection still open (the drain deadline). */
  destroyConnections(): void;
}

/**
 * Listens on `host:port` and gives each connection `handshakeTimeoutMs` to
 * open (see awaitOpening) before `serve` takes it. Every socket is tracked,
 * whichever protocol it speaks, so that the drain deadline reaches all.
 */
export function listenTcp(
  host: string,
  port: number,
  handshakeTimeoutMs: number,
  serve: (socket: net.Socket, protocol: OpeningProtocol) => void,
): Promise<TcpListener> {
  const sockets = new Set<net.Socket>();
  const opening = new Set<net.Socket>();
  // No Nagle delay, as node:http and node:http2 servers of their own would set.
  const server = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    opening.add(socket);
    socket.once("close", () => {
      sockets.delete(socket);
      opening.delete(socket);
    });
    awaitOpening(socket, handshakeTimeoutMs, (protocol) => {
      opening.delete(socket);
      serve(socket, protocol);
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close() {
          const closed = new Promise<void>((done) => server.close(() => done()));
          for (const socket of opening) socket.destroy();
          return closed;
        },
        destroyConnections() {
          for (const socket of sockets) socket.destroy();
        },
      });
    });
  });
}
