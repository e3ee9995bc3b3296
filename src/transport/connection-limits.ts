/** How long connections may take and hold, the same on both ports (KEYWARD_HANDSHAKE_TIMEOUT_MS and friends). */
export interface ConnectionLimits {
  /** Time a new connection has to open: the HTTP/2 preface and SETTINGS, or an HTTP/1.1 request's headers. */
  readonly handshakeTimeoutMs: number;
  /** Time a connection may stay open with no call in flight. */
  readonly idleTimeoutMs: number;
  /** Calls one HTTP/2 connection may have open at once (advertised in SETTINGS). */
  readonly maxConcurrentStreams: number;
  /** Memory one HTTP/2 session may hold (buffered frames, header tables); past it, new calls are refused. */
  readonly maxSessionMemoryMb: number;
}
