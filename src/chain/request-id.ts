import { randomUUID } from "node:crypto";

const ACCEPTABLE = /^[\w.:-]{1,128}$/;

/** The caller's `x-request-id` when it is a plausible id (so it cannot forge log lines), or a fresh one. */
export function requestIdFrom(header: string | undefined): string {
  return header !== undefined && ACCEPTABLE.test(header) ? header : randomUUID();
}
