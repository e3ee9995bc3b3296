import type { Message } from "@bufbuild/protobuf";

/**
 * Replies made once and handed to many calls. A service whose answer depends
 * only on an object that is itself shared (a cached key record) and a small
 * key (an outcome, a header name) makes the answer once per pair, kept only
 * while the object lives. Each such reply is frozen: nobody may change a reply
 * that other calls hold, and a transport that sees a frozen reply encodes it
 * once (see `isSharedReply`).
 */
export class SharedReplies<O extends object, K, R extends Message> {
  private readonly byOwner = new WeakMap<O, Map<K, R>>();

  /** The reply for (owner, key), made by `make` the first time and frozen. */
  get(owner: O, key: K, make: () => R): R {
    let byKey = this.byOwner.get(owner);
    if (!byKey) {
      byKey = new Map();
      this.byOwner.set(owner, byKey);
    }
    let reply = byKey.get(key);
    if (reply === undefined) {
      reply = Object.freeze(make());
      byKey.set(key, reply);
    }
    return reply;
  }
}

/** Whether a reply is shared between calls (frozen by SharedReplies): then its encoding may be kept and reused. */
export function isSharedReply(reply: object): boolean {
  return Object.isFrozen(reply);
}
