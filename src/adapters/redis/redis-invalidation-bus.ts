import type { Logger } from "../../observability/logger.js";
import type { Invalidation, InvalidationBus } from "../../ports/shared-key-cache.js";
import { decodeRecord, encodeRecord } from "./key-record-codec.js";
import { closeRedis, type RedisClient } from "./redis-connection.js";
import type { RejectionReporter } from "./rejected-values.js";
import type { ValueSigner } from "./value-signer.js";

const CHANNEL = "keyward:invalidate";

/**
 * Invalidations over Redis pub/sub, on a connection of their own (a
 * subscribed connection can do nothing else). It subscribes as soon as that
 * connection is up, however late; node-redis renews the subscription after a
 * reconnect, but whatever was published meanwhile is lost, hence the gaps.
 * Messages are signed for the channel: one that fails is dropped (and
 * reported), so whoever can publish on Redis cannot tell replicas a key's state.
 */
export class RedisInvalidationBus implements InvalidationBus {
  private readonly listeners: { onMessage(invalidation: Invalidation): void; onGap(): void }[] = [];
  private subscribed = false;
  /** Whether the last publish failed: one warning per outage, not one per retry. */
  private failing = false;

  private constructor(
    private readonly publisher: RedisClient,
    private readonly subscriber: RedisClient,
    private readonly logger: Logger,
    private readonly signer: ValueSigner,
    private readonly rejected: RejectionReporter,
  ) {
    subscriber.on("error", () => this.gap()); // the main connection already logs outages
    subscriber.on("end", () => this.gap());
    subscriber.on("ready", () => {
      this.gap();
      this.ensureSubscribed();
    });
  }

  static open(
    client: RedisClient,
    logger: Logger,
    signer: ValueSigner,
    rejected: RejectionReporter,
  ): RedisInvalidationBus {
    const bus = new RedisInvalidationBus(client, client.duplicate(), logger, signer, rejected);
    bus.subscriber.connect().catch(() => {}); // retried in the background, like the main connection
    return bus;
  }

  get connected(): boolean {
    return this.subscribed && this.subscriber.isReady;
  }

  /** Resolves once invalidations arrive, or after `timeoutMs` regardless. */
  async whenSubscribed(timeoutMs: number): Promise<void> {
    // Elapsed time, not the time of day: a wait, which no clock Keyward decides by may shorten.
    const deadline = performance.now() + timeoutMs;
    while (!this.connected && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  async publish(invalidation: Invalidation): Promise<boolean> {
    return this.publisher.publish(CHANNEL, this.signer.sign(CHANNEL, encodeInvalidation(invalidation))).then(
      () => {
        if (this.failing) this.logger.info("cache invalidations are published again");
        this.failing = false;
        return true;
      },
      (error: unknown) => {
        if (!this.failing) {
          this.logger.warn({ err: error }, "could not publish a cache invalidation; retrying until Redis answers");
        }
        this.failing = true;
        return false;
      },
    );
  }

  subscribe(onMessage: (invalidation: Invalidation) => void, onGap: () => void): void {
    this.listeners.push({ onMessage, onGap });
  }

  async close(): Promise<void> {
    await closeRedis(this.subscriber);
  }

  private ensureSubscribed(): void {
    if (this.subscribed) return;
    this.subscriber
      .subscribe(CHANNEL, (message) => {
        const payload = this.signer.open(CHANNEL, message);
        const invalidation = payload === undefined ? undefined : decodeInvalidation(payload);
        if (!invalidation) return this.rejected("message");
        for (const listener of this.listeners) listener.onMessage(invalidation);
      })
      .then(
        () => {
          this.subscribed = true;
        },
        () => this.gap(),
      );
  }

  private gap(): void {
    for (const listener of this.listeners) listener.onGap();
  }
}

function encodeInvalidation({ hashes, record, sentAt }: Invalidation): string {
  return JSON.stringify({ hashes, record: record && encodeRecord(record), sentAt });
}

/** The message, or undefined when it does not read as one (signed by us, so only a bug or another version). */
function decodeInvalidation(payload: string): Invalidation | undefined {
  try {
    const parsed = JSON.parse(payload) as { hashes?: unknown; record?: unknown; sentAt?: unknown };
    const { hashes, record, sentAt } = parsed;
    if (!Array.isArray(hashes) || !hashes.every((hash) => typeof hash === "string")) return undefined;
    if (typeof sentAt !== "number" || (record !== undefined && typeof record !== "string")) return undefined;
    return { hashes, sentAt, record: record ? decodeRecord(record) : undefined };
  } catch {
    return undefined;
  }
}
