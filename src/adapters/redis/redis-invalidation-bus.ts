import type { Logger } from "../../observability/logger.js";
import type { Invalidation, InvalidationBus } from "../../ports/shared-key-cache.js";
import { decodeRecord, encodeRecord } from "./key-record-codec.js";
import { closeRedis, connectInBackground, duplicateRedis, isCluster, type RedisClient } from "./redis-connection.js";
import type { RejectionReporter } from "./rejected-values.js";
import type { ValueSigner } from "./value-signer.js";

const CHANNEL = "keyward:invalidate";

/**
 * Invalidations over Redis pub/sub, on a connection of their own (a
 * subscribed connection can do nothing else). It subscribes as soon as that
 * connection is up, however late; node-redis renews the subscription after a
 * reconnect, but whatever was published meanwhile is lost, hence the gaps.
 * On a cluster a PUBLISH reaches the subscribers of every node, so one
 * subscription on any node hears all; when that node fails, node-redis
 * subscribes again on another once it has refreshed the topology. Under
 * Sentinel the subscription follows the master.
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
    const gap = () => this.gap(); // the main connection already logs outages
    for (const event of ["error", "end", "node-error", "node-disconnect", "topology-change"]) subscriber.on(event, gap);
    // A cluster is ready once it knows its nodes ("connect"); its nodes come and go after that.
    for (const event of ["ready", "connect", "node-ready"]) {
      subscriber.on(event, () => {
        this.gap();
        this.ensureSubscribed();
      });
    }
  }

  static open(
    client: RedisClient,
    logger: Logger,
    signer: ValueSigner,
    rejected: RejectionReporter,
  ): RedisInvalidationBus {
    const bus = new RedisInvalidationBus(client, duplicateRedis(client), logger, signer, rejected);
    connectInBackground(bus.subscriber); // retried in the background, like the main connection
    return bus;
  }

  get connected(): boolean {
    if (!this.subscribed) return false;
    // On a cluster, the connection that carries the subscription: the others do not matter here.
    if (isCluster(this.subscriber)) return this.subscriber.pubSubNode?.client.isReady === true;
    return this.subscriber.isReady;
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
