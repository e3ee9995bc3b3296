import type net from "node:net";

/** What a connection turned out to speak once its opening bytes are in. */
export type OpeningProtocol = "http2" | "http1";

const HTTP2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
const FRAME_HEADER_BYTES = 9;
const SETTINGS_FRAME = 0x4;
/** The largest frame a peer may send before SETTINGS say otherwise (RFC 9113, SETTINGS_MAX_FRAME_SIZE). */
const MAX_OPENING_FRAME_BYTES = 16_384;

/**
 * Holds a new connection until it has opened, then hands it over with its
 * bytes put back: HTTP/2 once the preface and the client's first SETTINGS
 * frame are in (a client must send both at once), anything else at its first
 * byte (HTTP/1.1 then has its own header timeout). A connection that has not
 * opened within `timeoutMs`, or opens HTTP/2 with something other than
 * SETTINGS, is destroyed: a socket that sends nothing costs nothing for long.
 */
export function awaitOpening(socket: net.Socket, timeoutMs: number, opened: (protocol: OpeningProtocol) => void): void {
  let head = Buffer.alloc(0);
  const deadline = setTimeout(() => socket.destroy(), timeoutMs);
  // A reset before the protocol server owns the socket must not become an uncaught error.
  const onError = () => socket.destroy();
  const onClose = () => clearTimeout(deadline);
  const onData = (chunk: Buffer) => {
    head = Buffer.concat([head, chunk]);
    const protocol = openingProtocol(head);
    if (protocol === "incomplete") return;
    clearTimeout(deadline);
    socket.off("data", onData);
    socket.off("error", onError);
    socket.off("close", onClose);
    if (protocol === "invalid") {
      socket.destroy();
      return;
    }
    socket.pause();
    socket.unshift(head);
    opened(protocol);
  };
  socket.on("data", onData);
  socket.on("error", onError);
  socket.once("close", onClose);
}

function openingProtocol(head: Buffer): OpeningProtocol | "incomplete" | "invalid" {
  const compared = Math.min(head.length, HTTP2_PREFACE.length);
  if (!head.subarray(0, compared).equals(HTTP2_PREFACE.subarray(0, compared))) return "http1";
  if (head.length < HTTP2_PREFACE.length + FRAME_HEADER_BYTES) return "incomplete";
  const length = head.readUIntBE(HTTP2_PREFACE.length, 3);
  const type = head[HTTP2_PREFACE.length + 3];
  if (type !== SETTINGS_FRAME || length > MAX_OPENING_FRAME_BYTES) return "invalid";
  return head.length >= HTTP2_PREFACE.length + FRAME_HEADER_BYTES + length ? "http2" : "incomplete";
}
