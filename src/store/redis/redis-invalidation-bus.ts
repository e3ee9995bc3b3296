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

  async publish(invalidation: Invalidation): Promise<void> {
    await this.publisher.publish(CHANNEL, encodeInvalidation(invalidation)).catch((error: unknown) => {
      this.logger.warn(
        { err: error },
        "could not publish a cache invalidation; other replicas catch up within the degraded cache TTL",
      );
    });
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

function encodeInvalidation(invalidation: Invalidation): string {
  if (!("hashes" in invalidation) || !invalidation.record) return JSON.stringify(invalidation);
  return JSON.stringify({ ...invalidation, record: encodeRecord(invalidation.record) });
}

function decodeInvalidation(message: string): Invalidation {
  const parsed = JSON.parse(message) as { hashes?: string[]; record?: string; keyspaceId?: string };
  if (parsed.hashes) return { hashes: parsed.hashes, record: parsed.record ? decodeRecord(parsed.record) : undefined };
  return { keyspaceId: parsed.keyspaceId ?? "" };
}
