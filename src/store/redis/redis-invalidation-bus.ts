import type { Logger } from "../../logger.js";
import type { Invalidation, InvalidationBus } from "../key-cache.js";
import { decodeRecord, encodeRecord } from "./key-record-codec.js";
import type { RedisClient } from "./redis-connection.js";

const CHANNEL = "keyward:invalidate";

/**
 * Invalidations over Redis pub/sub, on a connection of their own (a
 * subscribed connection can do nothing else). node-redis resubscribes after
 * a reconnect; whatever was published meanwhile is lost, hence `onGap`.
 */
export class RedisInvalidationBus implements InvalidationBus {
  private constructor(
    private readonly publisher: RedisClient,
    private readonly subscriber: RedisClient,
    private readonly logger: Logger,
  ) {}

  static async open(client: RedisClient, logger: Logger): Promise<RedisInvalidationBus> {
    const subscriber = client.duplicate();
    subscriber.on("error", () => {}); // the main connection already reports outages
    await subscriber.connect();
    return new RedisInvalidationBus(client, subscriber, logger);
  }

  get connected(): boolean {
    return this.subscriber.isReady;
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
    this.subscriber.on("end", onGap);
    this.subscriber.on("error", onGap);
    this.subscriber.on("ready", onGap);
    // node-redis keeps the subscription and renews it on every reconnect; a first attempt that fails is a gap too.
    this.subscriber.subscribe(CHANNEL, (message) => onMessage(decodeInvalidation(message))).catch(onGap);
  }

  async close(): Promise<void> {
    await this.subscriber.close().catch(() => {});
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
