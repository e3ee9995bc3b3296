/**
 * How a replica sizes the blocks of credits it leases from the key store, so
 * that a hot key costs one store write per block rather than per verification.
 * The store takes a lease from a key's unleased credits in one conditional
 * update, so whatever these rules answer, nothing is spent twice; they only
 * decide how many writes a key costs and how long credits sit unused in a lease.
 */

/** A replica never takes more than this share of the credits it could lease, so that others can still lease some. */
export const LEASE_SHARE_DIVISOR = 4;

export interface LeaseSizing {
  /** The most credits one lease holds (KEYWARD_CREDIT_LEASE_MAX). */
  readonly max: number;
  /** How long a lease may be spent before it is renewed (KEYWARD_CREDIT_LEASE_TTL_MS). */
  readonly ttlMs: number;
}

/**
 * How many credits to ask for: what the key spent at the pace it was spent
 * (`spent` over `elapsedMs`) for half a lease's life, so a busy key renews
 * about twice per TTL; at least `cost`, at most `max`.
 */
export function leaseWant(spent: number, elapsedMs: number, cost: number, sizing: LeaseSizing): number {
  const forHalfATtl = Math.ceil((spent * sizing.ttlMs) / 2 / Math.max(elapsedMs, 1));
  return Math.max(cost, Math.min(forHalfATtl, sizing.max));
}

/**
 * How many credits to take, given what could be leased (`available`: the
 * key's unleased credits plus what this replica gives back in the same
 * step): what is wanted, but never more than a share of what is available,
 * so that leases shrink as the balance runs low and other replicas can still
 * lease; at least `cost`. Zero when fewer than `cost` are available: the
 * verification is refused.
 */
export function leaseTake(want: number, cost: number, available: number): number {
  if (available < cost || available <= 0) return 0;
  const share = Math.ceil(available / LEASE_SHARE_DIVISOR);
  return Math.min(available, Math.max(cost, Math.min(want, share)));
}

/** A lease holder names a replica, and a field in stores: letters, digits, `_` and `-` only. */
export function isLeaseHolder(holder: string): boolean {
  return /^[A-Za-z0-9_-]{1,64}$/.test(holder);
}

/** Stores check the holder whatever the caller did: it becomes a field name. */
export function assertLeaseHolder(holder: string): void {
  if (!isLeaseHolder(holder)) throw new RangeError("invalid lease holder");
}
