import type { Logger } from "../../logger.js";
import type { Invalidation, InvalidationBus } from "../key-cache.js";
import { decodeRecord, encodeRecord } from "./key-record-codec.js";
import type { RedisClient } from "./redis-connection.js";

const CHANNEL = "keyward:invalidate";

/**
 * Invalidations over Redis pub/sub, on a connection of their own (a
 * subscribed connection can do nothing else). It subscribes as soon as that
 * connection is up, however late; node-redis renews the subscription after a
 * reconnect, but whatever was published meanwhile is lost, hence the gaps.
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
  ) {
    subscriber.on("error", () => this.gap()); // the main connection already logs outages
    subscriber.on("end", () => this.gap());
    subscriber.on("ready", () => {
      this.gap();
      this.ensureSubscribed();
    });
  }

  static open(client: RedisClient, logger: Logger): RedisInvalidationBus {
    const bus = new RedisInvalidationBus(client, client.duplicate(), logger);
    bus.subscriber.connect().catch(() => {}); // retried in the background, like the main connection
    return bus;
  }

  get connected(): boolean {
    return this.subscribed && this.subscriber.isReady;
  }

  /** Resolves once invalidations arrive, or after `timeoutMs` regardless. */
  async whenSubscribed(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.connected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  async publish(invalidation: Invalidation): Promise<boolean> {
    return this.publisher.publish(CHANNEL, encodeInvalidation(invalidation)).then(
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
    await this.subscriber.close().catch(() => {});
  }

  private ensureSubscribed(): void {
    if (this.subscribed) return;
    this.subscriber
      .subscribe(CHANNEL, (message) => {
        const invalidation = decodeInvalidation(message);
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

function encodeInvalidation({ hashes, record }: Invalidation): string {
  return JSON.stringify({ hashes, record: record && encodeRecord(record) });
}

function decodeInvalidation(message: string): Invalidation {
  const parsed = JSON.parse(message) as { hashes: string[]; record?: string };
  return { hashes: parsed.hashes, record: parsed.record ? decodeRecord(parsed.record) : undefined };
}
