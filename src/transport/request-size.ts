/**
 * The largest request either port reads (1 MiB; the largest valid request is far
 * smaller). Larger ones are refused with RESOURCE_EXHAUSTED before they are decoded.
 */
export const MAX_REQUEST_BYTES = 1024 * 1024;
