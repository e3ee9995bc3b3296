import type { Config } from "../composition/config.js";

/** How long connections may take and hold, the same on both ports (KEYWARD_HANDSHAKE_TIMEOUT_MS and friends). */
export type ConnectionLimits = Config["connections"];
