import type { Cluster, Redis } from "ioredis";
import type { Clock, ClockTimer } from "tutti";

interface Waiter {
  readonly channels: Set<string>;
  readonly resolve: () => void;
}

/**
 * The node's one subscriber connection (one per shard on a Cluster, through ioredis'
 * `shardedSubscribers`): everything the node receives arrives here, so a namespace's feed,
 * whose channels share one slot, arrives in the order the publish script ran.
 *
 * Channels are counted: `acquire` adds a holder, `release` removes one, and a channel nobody
 * holds is dropped after `linger` ms unless acquired again, so join/leave churn costs nothing.
 * SUBSCRIBE and UNSUBSCRIBE are batched per event-loop turn. After the connection comes back
 * every held channel is subscribed again, then `onResubscribed` runs.
 */
export class Subscriber {
  private readonly holders = new Map<string, number>();
  /** Channels Redis confirmed (and has not been asked to drop). */
  private readonly live = new Set<string>();
  private readonly toSubscribe = new Set<string>();
  private readonly toUnsubscribe = new Set<string>();
  private readonly lingering = new Map<string, ClockTimer>();
  private waiters: Waiter[] = [];
  private flushPending = false;
  private lost = false;
  private closed = false;
  private readonly onMessageBuffer = (channel: Buffer, message: Buffer) => {
    this.onMessage(channel.toString(), message);
  };
  private readonly onClose = () => {
    if (this.closed || this.lost) return;
    this.lost = true;
    this.live.clear();
    this.onLost();
  };
  private readonly onReady = () => {
    if (this.closed) return;
    if (this.lost) {
      this.lost = false;
      for (const channel of this.holders.keys()) this.toSubscribe.add(channel);
      const resubscribed = this.waitFor([...this.holders.keys()]);
      this.schedule();
      resubscribed.then(() => {
        if (!this.closed && !this.lost) this.onResubscribed();
      });
    } else this.schedule();
  };

  constructor(
    private readonly client: Redis | Cluster,
    private readonly sharded: boolean,
    private readonly linger: number,
    private readonly clock: Clock,
    private readonly onMessage: (channel: string, message: Buffer) => void,
    private readonly onLost: () => void,
    private readonly onResubscribed: () => void,
    private readonly report: (error: Error) => void,
  ) {
    if (sharded) (client as Cluster).on("smessageBuffer", this.onMessageBuffer);
    else (client as Redis).on("messageBuffer", this.onMessageBuffer);
    client.on("close", this.onClose);
    client.on("end", this.onClose);
    client.on("ready", this.onReady);
  }

  /** Whether a holder holds `channel` now. */
  holds(channel: string): boolean {
    return (this.holders.get(channel) ?? 0) > 0;
  }

  /** Holds `channels`; resolves once Redis confirmed every one of them. */
  acquire(channels: readonly string[]): Promise<void> {
    const pending: string[] = [];
    for (const channel of channels) {
      this.holders.set(channel, (this.holders.get(channel) ?? 0) + 1);
      const timer = this.lingering.get(channel);
      if (timer !== undefined) {
        this.clock.clearTimeout(timer);
        this.lingering.delete(channel);
      }
      this.toUnsubscribe.delete(channel);
      if (!this.live.has(channel)) {
        this.toSubscribe.add(channel);
        pending.push(channel);
      }
    }
    if (pending.length === 0) return Promise.resolve();
    const confirmed = this.waitFor(pending);
    this.schedule();
    return confirmed;
  }

  /** Drops one hold of each of `channels`; a channel held by no one goes after the linger. */
  release(channels: readonly string[]): void {
    for (const channel of channels) {
      const count = (this.holders.get(channel) ?? 0) - 1;
      if (count > 0) {
        this.holders.set(channel, count);
        continue;
      }
      if (count < 0) continue;
      this.holders.delete(channel);
      if (this.lingering.has(channel)) continue;
      this.lingering.set(
        channel,
        this.clock.setTimeout(() => {
          this.lingering.delete(channel);
          if (this.holders.has(channel) || this.closed) return;
          this.toSubscribe.delete(channel);
          this.toUnsubscribe.add(channel);
          this.schedule();
        }, this.linger),
      );
    }
  }

  /** Stops: timers cleared, listeners removed, channels dropped unless the connection goes too. */
  close(unsubscribe: boolean): void {
    this.closed = true;
    for (const timer of this.lingering.values()) this.clock.clearTimeout(timer);
    this.lingering.clear();
    if (this.sharded) (this.client as Cluster).off("smessageBuffer", this.onMessageBuffer);
    else (this.client as Redis).off("messageBuffer", this.onMessageBuffer);
    this.client.off("close", this.onClose);
    this.client.off("end", this.onClose);
    this.client.off("ready", this.onReady);
    if (unsubscribe && this.live.size > 0 && this.client.status === "ready") {
      this.send("unsubscribe", [...this.live]).catch(() => {});
    }
    this.live.clear();
    this.holders.clear();
    for (const waiter of this.waiters) waiter.resolve();
    this.waiters = [];
  }

  private waitFor(channels: readonly string[]): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push({ channels: new Set(channels), resolve });
    });
  }

  private schedule(): void {
    if (this.flushPending) return;
    this.flushPending = true;
    setImmediate(() => {
      this.flushPending = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.closed || this.client.status !== "ready") return; // `ready` subscribes what is held
    if (this.toUnsubscribe.size > 0) {
      const channels = [...this.toUnsubscribe];
      this.toUnsubscribe.clear();
      for (const channel of channels) this.live.delete(channel);
      this.send("unsubscribe", channels).catch((error: unknown) => this.failed(error));
    }
    if (this.toSubscribe.size > 0) {
      const channels = [...this.toSubscribe];
      this.toSubscribe.clear();
      this.send("subscribe", channels).then(
        () => this.confirmed(channels),
        (error: unknown) => {
          // held channels are subscribed again on the next `ready`; a live connection's refusal is reported
          if (this.client.status === "ready") this.failed(error);
        },
      );
    }
  }

  private async send(action: "subscribe" | "unsubscribe", channels: readonly string[]): Promise<void> {
    if (!this.sharded) {
      const redis = this.client as Redis;
      await (action === "subscribe" ? redis.subscribe(...channels) : redis.unsubscribe(...channels));
      return;
    }
    // a sharded (S)SUBSCRIBE takes channels of one slot: group them by hash tag
    const groups = new Map<string, string[]>();
    for (const channel of channels) {
      const tag = hashTag(channel);
      const group = groups.get(tag);
      if (group === undefined) groups.set(tag, [channel]);
      else group.push(channel);
    }
    const cluster = this.client as Cluster;
    await Promise.all(
      [...groups.values()].map((group) =>
        action === "subscribe" ? cluster.ssubscribe(...group) : cluster.sunsubscribe(...group),
      ),
    );
  }

  private confirmed(channels: readonly string[]): void {
    if (this.closed) return;
    for (const channel of channels) {
      if (this.holders.has(channel) || this.lingering.has(channel)) this.live.add(channel);
    }
    const waiting = this.waiters;
    this.waiters = [];
    for (const waiter of waiting) {
      for (const channel of channels) waiter.channels.delete(channel);
      if (waiter.channels.size === 0) waiter.resolve();
      else this.waiters.push(waiter);
    }
  }

  private failed(error: unknown): void {
    if (this.closed) return;
    this.report(
      new Error(
        `@tutti/redis: a subscription change failed: ${error instanceof Error ? error.message : String(error)}`,
      ),
    );
  }
}

/** The part of a key or channel Redis Cluster hashes: the first non-empty `{...}`, else all of it. */
function hashTag(name: string): string {
  const open = name.indexOf("{");
  if (open === -1) return name;
  const close = name.indexOf("}", open + 1);
  return close > open + 1 ? name.slice(open + 1, close) : name;
}
