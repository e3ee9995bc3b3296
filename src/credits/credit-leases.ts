import type { Clock } from "../keys/clock.js";
import { type LeaseSizing, leaseTake, leaseWant } from "../keys/credit-lease.js";
import { refillDue } from "../keys/refill.js";
import type { VerifiableKey } from "../keys/verifiable-key.js";
import type { Logger } from "../observability/logger.js";
import type { CreditLedger } from "../ports/credit-ledger.js";
import { applyDueRefill, type CreditSpender, type CreditSpendOutcome } from "../verification/credits.js";

export interface CreditLeaseSettings extends LeaseSizing {
  /** A lease unused this long goes back to the store (KEYWARD_CREDIT_LEASE_IDLE_MS). */
  readonly idleMs: number;
}

/** What the store writes for credits: a spend without a lease, a lease (or renewal), a lease given back. */
export type CreditWrite = "spend" | "lease" | "return";

export interface CreditLeaseDeps {
  readonly ledger: CreditLedger;
  /** This replica, as leases name it: new at every start, so a restarted replica never takes over a dead one's lease. */
  readonly holder: string;
  readonly settings: CreditLeaseSettings;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Hears every credit write sent to the store (metrics; the write-count test). */
  readonly onWrite?: ((write: CreditWrite) => void) | undefined;
}

/** After the store had too few credits, refuse from memory for this long before asking again. */
const RECHECK_MS = 100;
/** Lease attempts per verification: a refusal tells the current balance, so the next take fits it. */
const ATTEMPTS = 3;

interface Lease {
  readonly leaseId: string;
  readonly granted: number;
  readonly grantedAt: number;
  readonly expiresAt: number;
  left: number;
}

/** What this replica knows of one key's credits. Only ever changed by the key's queue. */
interface KeyCredits {
  lease?: Lease | undefined;
  /** The key's unleased credits when the store last said. */
  pool?: number | undefined;
  /** When the store last had too few for a verification. */
  emptyAt?: number | undefined;
  lastSpendAt: number;
  queue: Promise<unknown>;
  pending: number;
}

/**
 * The replica's credit leases. A key spent once in a while costs one
 * conditional write per verification, as without leases; a key spent again
 * within `idleMs` gets a lease: a block of its credits, taken from the store
 * in one atomic write and spent here, a verification at a time per key, with
 * no write at all. A lease is renewed (what is left of it given back in the
 * same write) when it runs out or expires, and given back when the key goes
 * idle, when its credits are changed here, or when the replica stops.
 * Its size follows the key's pace and shrinks with the balance (src/keys/credit-lease.ts).
 *
 * The store never hands the same credit out twice, so nothing here can
 * over-spend; what a replica that dies holds is lost (counted as spent).
 */
export class CreditLeases implements CreditSpender {
  private readonly keys = new Map<string, KeyCredits>();
  private sequence = 0;
  private timer?: NodeJS.Timeout;

  constructor(private readonly deps: CreditLeaseDeps) {}

  spend(record: VerifiableKey, cost: number, now: number): Promise<CreditSpendOutcome> {
    return this.queued(record.keyId, (state) => this.spendNow(record, cost, now, state));
  }

  /**
   * Gives this replica's lease on the key back (a void one gives nothing) and
   * forgets what it knew of the balance: after its credits were changed here
   * (UpdateCredits, UpdateKey), and before the key is read (GetKey), so that
   * what this replica shows and spends next is the store's count.
   */
  release(keyId: string): Promise<void> {
    if (!this.keys.has(keyId)) return Promise.resolve();
    return this.queued(keyId, async (state) => {
      await this.end(keyId, state);
      state.pool = undefined;
      state.emptyAt = undefined;
    });
  }

  /** Gives back idle and expired leases in the background. */
  start(): void {
    const every = Math.max(10, Math.min(this.deps.settings.idleMs, 1_000) / 2);
    this.timer = setInterval(() => void this.sweep(), every);
    this.timer.unref();
  }

  /** Gives every lease back (graceful stop): none is lost. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([...this.keys.keys()].map((keyId) => this.queued(keyId, (state) => this.end(keyId, state))));
  }

  /** How many keys this replica holds a lease on (metrics, tests). */
  get leased(): number {
    return [...this.keys.values()].filter((state) => state.lease).length;
  }

  private async spendNow(
    record: VerifiableKey,
    cost: number,
    now: number,
    state: KeyCredits,
  ): Promise<CreditSpendOutcome> {
    const { ledger } = this.deps;
    const periodStart = refillDue(record, now);
    if (periodStart) {
      await applyDueRefill(ledger, record, now);
      state.emptyAt = undefined;
    }
    // A refill (here or elsewhere, as the record tells) voided leases taken before it: stop spending this one.
    const refilledBy = Math.max(periodStart?.getTime() ?? 0, record.refill?.lastRefilledAt?.getTime() ?? 0);
    if (state.lease && state.lease.grantedAt < refilledBy) await this.end(record.keyId, state);
    const lease = state.lease;
    const known = (state.pool ?? 0) + (lease?.left ?? 0);
    if (cost === 0 && (lease || state.pool !== undefined)) return { spent: true, remaining: known };
    if (lease && lease.expiresAt > now && lease.left >= cost) {
      lease.left -= cost;
      state.lastSpendAt = now;
      return { spent: true, remaining: known - cost };
    }
    if (state.emptyAt !== undefined && now - state.emptyAt < RECHECK_MS && known < cost) {
      return { spent: false, remaining: known };
    }
    const busy = now - state.lastSpendAt < this.deps.settings.idleMs;
    if (!lease && (!busy || cost === 0)) {
      // Spent once in a while: one conditional write, as a lease would cost at least that.
      this.deps.onWrite?.("spend");
      const spend = await ledger.spendCredits(record.keyId, cost);
      state.pool = spend?.remaining;
      state.lastSpendAt = now;
      state.emptyAt = spend?.spent ? undefined : now;
      return { spent: spend?.spent ?? false, remaining: spend?.remaining ?? 0 };
    }
    return this.renew(record.keyId, cost, now, state);
  }

  /** Takes a new lease, giving back what is left of the current one in the same write, and spends `cost` of it. */
  private async renew(keyId: string, cost: number, now: number, state: KeyCredits): Promise<CreditSpendOutcome> {
    const { settings, ledger } = this.deps;
    const lease = state.lease;
    const want = lease
      ? leaseWant(lease.granted - lease.left, now - lease.grantedAt, cost, settings)
      : leaseWant(1, now - state.lastSpendAt, cost, settings);
    let previous = lease && { leaseId: lease.leaseId, unspent: lease.left };
    let pool = state.pool;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      // What this replica last saw is only a guess: the first attempt asks for at least the cost whatever it says.
      const guess = pool === undefined || attempt === 0;
      const fitted = pool === undefined ? want : leaseTake(want, cost, pool + (previous?.unspent ?? 0));
      const take = fitted === 0 && guess ? Math.max(cost, 1) : fitted;
      if (take === 0) break;
      const leaseId = `${++this.sequence}`;
      // Once the write is sent the current lease may have ended (a lost answer tells nothing): stop spending it
      // unless the store says it still stands.
      const standing = state.lease;
      state.lease = undefined;
      this.deps.onWrite?.("lease");
      const outcome = await ledger.leaseCredits(keyId, {
        holder: this.deps.holder,
        leaseId,
        take,
        expiresAt: new Date(now + settings.ttlMs),
        previous,
        // Another replica's lease this long past its end was its holder's to give back: it died.
        dropExpiredBefore: new Date(now - settings.ttlMs),
      });
      if (!outcome) {
        // The key is gone or has no credit limit any more.
        state.lease = undefined;
        state.pool = undefined;
        return { spent: false, remaining: 0 };
      }
      pool = outcome.remaining;
      if (outcome.granted) {
        state.lease = { leaseId, granted: take, grantedAt: now, expiresAt: now + settings.ttlMs, left: take - cost };
        state.pool = pool;
        state.emptyAt = undefined;
        state.lastSpendAt = now;
        return { spent: true, remaining: pool + take - cost };
      }
      if (outcome.previousVoid) previous = undefined;
      else state.lease = standing;
    }
    state.pool = pool;
    state.emptyAt = now;
    return { spent: false, remaining: (pool ?? 0) + (state.lease?.left ?? 0) };
  }

  /** Gives the key's lease back, if it holds one. A void lease gives nothing; a failed write loses what it held (counted as spent). */
  private async end(keyId: string, state: KeyCredits): Promise<void> {
    const lease = state.lease;
    if (!lease) return;
    state.lease = undefined;
    this.deps.onWrite?.("return");
    try {
      await this.deps.ledger.returnCredits(keyId, this.deps.holder, lease.leaseId, lease.left);
    } catch (error) {
      this.deps.logger.warn(
        { keyId, credits: lease.left, err: error },
        "a credit lease could not be given back; its credits count as spent",
      );
    }
  }

  /** Ends leases unused for `idleMs` or past their expiry, and forgets keys not spent for as long (the timer's work). */
  async sweep(): Promise<void> {
    const now = this.deps.clock();
    const work: Promise<unknown>[] = [];
    for (const [keyId, state] of this.keys) {
      const idle = now - state.lastSpendAt >= this.deps.settings.idleMs;
      if (!idle && !(state.lease && state.lease.expiresAt <= now)) continue;
      work.push(
        this.queued(keyId, async (current) => {
          await this.end(keyId, current);
          if (now - current.lastSpendAt >= this.deps.settings.idleMs && current.pending === 1) this.keys.delete(keyId);
        }).catch(() => {}),
      );
    }
    await Promise.all(work);
  }

  /** Runs `task` after every earlier task of the key: a key's lease is spent one verification at a time. */
  private queued<T>(keyId: string, task: (state: KeyCredits) => Promise<T>): Promise<T> {
    let state = this.keys.get(keyId);
    if (!state) {
      state = { lastSpendAt: Number.NEGATIVE_INFINITY, queue: Promise.resolve(), pending: 0 };
      this.keys.set(keyId, state);
    }
    const current = state;
    current.pending += 1;
    const result = current.queue.then(() => task(current));
    current.queue = result
      .catch(() => {})
      .finally(() => {
        current.pending -= 1;
      });
    return result;
  }
}
