import { randomBytes, randomInt } from "node:crypto";
import { EventEmitter } from "node:events";
import type { Cluster, Redis } from "ioredis";
import {
  type Broker,
  type BrokerEvents,
  CLUSTER_PROTOCOL_VERSION,
  type Clock,
  type FeedEntry,
  type NamespaceFeed,
  type NamespaceLink,
  type NodeInfo,
  type NodeMessage,
  type Position,
  type StoredMessage,
  systemClock,
} from "tutti";
import { decode, encodeEphemeral, encodeStored, STORED } from "./codec.js";
import { Commands } from "./commands.js";
import { Keys, type NamespaceKeys } from "./keys.js";
import { PublishGate, type PublishQueueOptions } from "./publish-gate.js";
import { Registry } from "./registry.js";
import { Subscriber } from "./subscriber.js";

/** A Redis or a Redis Cluster client of ioredis. */
export type RedisClient = Redis | Cluster;

export interface RedisBrokerOptions {
  /** Prefix of every key and channel (default "tutti"; socket.io apps pass "socket.io"). */
  readonly key?: string;
  /**
   * The subscriber connection. Default: a duplicate of the command client, which the broker
   * closes with itself (on a Cluster, with `shardedSubscribers: true`: one per shard).
   */
  readonly subClient?: RedisClient;
  /** Stored messages kept per room (default 1000; `MAXLEN ~`). */
  readonly historySize?: number;
  /** How long a room's history outlives its last message, in ms (default 150,000). */
  readonly historyTtl?: number;
  /** How long a room's channel stays subscribed after its last holder left, in ms (default 5000). */
  readonly roomLinger?: number;
  /** How often this node announces itself, in ms (default 2000). */
  readonly heartbeatInterval?: number;
  /** A node silent this long (by Redis's clock) is down, in ms (default 6000). */
  readonly heartbeatTimeout?: number;
  /** How often the live nodes are read, in ms (default 1000). */
  readonly membersInterval?: number;
  /** The inter-node protocol version this node announces (default `CLUSTER_PROTOCOL_VERSION`). */
  readonly protocolVersion?: number;
  /** Bounds of the queue holding publishes while Redis is unreachable (10,000 messages / 5000 ms). */
  readonly publishQueue?: PublishQueueOptions;
  /** Time for the broker's timers (default the system clock). */
  readonly clock?: Clock;
}

/** How `close` leaves. */
export interface RedisBrokerCloseOptions {
  /**
   * Remove this node from the registry at once (default true). `false` leaves as a crashed
   * node does: the others declare it down after `heartbeatTimeout`.
   */
  readonly deregister?: boolean;
}

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** 8 random letters or digits: a new epoch. */
function newEpoch(): string {
  let epoch = "";
  for (let i = 0; i < 8; i++) epoch += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return epoch;
}

function isCluster(client: RedisClient): client is Cluster {
  return (client as { isCluster?: boolean }).isCluster === true;
}

function option(value: number | undefined, fallback: number, name: string): number {
  const result = value ?? fallback;
  if (!(result > 0) || !Number.isFinite(result))
    throw new RangeError(`@tutti/redis: ${name} must be a positive number`);
  return result;
}

/**
 * The `Broker` on Redis (design note C4-C6, C10). One command connection (the app's client)
 * runs the publish script; one subscriber connection carries the feed; a registry keeps the
 * membership. See the README for the keys and the guarantees.
 */
export class RedisBroker extends EventEmitter<BrokerEvents> implements Broker {
  private readonly keys: Keys;
  private readonly commands: Commands;
  private readonly registry: Registry;
  private readonly subscriber: Subscriber;
  private readonly gate: PublishGate;
  private readonly sub: RedisClient;
  private readonly ownsSub: boolean;
  private readonly sharded: boolean;
  private readonly clock: Clock;
  private readonly historySize: number;
  private readonly historyTtl: number;
  private readonly namespaces = new Map<string, NamespaceState>();
  private readonly starting: Promise<void>;
  private secretValue: Promise<Uint8Array> | undefined;
  private publishCounter = 0;
  private closed = false;

  constructor(
    private readonly redis: RedisClient,
    options: RedisBrokerOptions = {},
  ) {
    super();
    this.keys = new Keys(options.key ?? "tutti");
    this.clock = options.clock ?? systemClock;
    this.historySize = option(options.historySize, 1000, "historySize");
    this.historyTtl = option(options.historyTtl, 150_000, "historyTtl");
    const heartbeatInterval = option(options.heartbeatInterval, 2000, "heartbeatInterval");
    const heartbeatTimeout = option(options.heartbeatTimeout, 6000, "heartbeatTimeout");
    if (heartbeatTimeout <= heartbeatInterval) {
      throw new RangeError("@tutti/redis: heartbeatTimeout must be longer than heartbeatInterval");
    }
    this.sharded = isCluster(redis);
    this.commands = new Commands(redis);
    this.ownsSub = options.subClient === undefined;
    this.sub =
      options.subClient ??
      (isCluster(redis) ? redis.duplicate(undefined, { shardedSubscribers: true }) : redis.duplicate());
    // the broker reports what matters through `error`; connection noise of its own client is not that
    if (this.ownsSub) this.sub.on("error", () => {});
    const report = (error: Error) => this.report(error);
    this.registry = new Registry(
      redis,
      this.commands,
      this.keys,
      {
        heartbeatInterval,
        heartbeatTimeout,
        membersInterval: option(options.membersInterval, 1000, "membersInterval"),
        protocolVersion: options.protocolVersion ?? CLUSTER_PROTOCOL_VERSION,
      },
      this.clock,
      {
        up: (node) => this.emit("node-up", node),
        down: (tag) => this.emit("node-down", tag),
        error: report,
      },
    );
    this.subscriber = new Subscriber(
      this.sub,
      this.sharded,
      option(options.roomLinger, 5000, "roomLinger"),
      this.clock,
      (channel, message) => this.receive(channel, message),
      () => this.feedLost(),
      () => this.feedResumed(),
      report,
    );
    this.gate = new PublishGate(redis, options.publishQueue, this.clock, report);
    this.starting = this.start();
    this.starting.catch(() => {}); // `ready()` hands the failure on
  }

  get tag(): string {
    return this.registry.tag;
  }

  ready(): Promise<void> {
    return this.starting;
  }

  members(): ReadonlyMap<string, NodeInfo> {
    return this.registry.members();
  }

  locate(tag: string): Promise<NodeInfo | undefined> {
    return this.registry.locate(tag);
  }

  setAddress(address: string): void {
    this.registry.setAddress(address);
  }

  /** A 32-byte key put under `P:secret` by the first node (SET NX) and read by all. */
  secret(): Promise<Uint8Array> {
    if (this.secretValue === undefined) {
      const key = this.keys.secret;
      const attempt = (async () => {
        await this.redis.set(key, randomBytes(32), "NX");
        const value = await this.redis.getBuffer(key);
        if (value === null || value.length !== 32) throw new Error(`@tutti/redis: ${key} does not hold a 32-byte key`);
        return new Uint8Array(value);
      })();
      this.secretValue = attempt;
      attempt.catch(() => {
        if (this.secretValue === attempt) this.secretValue = undefined;
      });
    }
    return this.secretValue;
  }

  namespace(name: string, feed: NamespaceFeed): NamespaceLink {
    if (this.closed) throw new Error("@tutti/redis: the broker is closed");
    if (this.namespaces.has(name)) throw new Error(`@tutti/redis: namespace ${name} is already linked`);
    const state = new NamespaceState(this, name, this.keys.namespace(name), feed);
    this.namespaces.set(name, state);
    return state;
  }

  /** Leaves the cluster and closes what the broker opened; `{deregister: false}` leaves as a crash does. */
  async close(options: RedisBrokerCloseOptions = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const state of [...this.namespaces.values()]) state.close();
    this.gate.close();
    this.subscriber.close(!this.ownsSub);
    await this.registry.stop(options.deregister ?? true);
    if (this.ownsSub) this.sub.disconnect();
  }

  // ---- used by the namespaces ----

  /** @internal */
  get node(): string {
    return this.registry.tag;
  }

  /** @internal */
  channels(): Subscriber {
    return this.subscriber;
  }

  /** @internal */
  unlink(state: NamespaceState): void {
    if (this.namespaces.get(state.name) === state) this.namespaces.delete(state.name);
  }

  /** @internal Positions `message` through the publish script, in call order. */
  publishStored(state: NamespaceState, message: StoredMessage): Promise<Position> {
    const payload = encodeStored(message);
    const rooms = [...new Set(message.rooms)];
    const keys = [state.keys.meta, state.keys.publisher(this.node)];
    const channels: string[] = [];
    if (rooms.length === 0) {
      keys.push(state.keys.all);
      channels.push(state.keys.allChannel);
    } else {
      for (const room of rooms) {
        keys.push(state.keys.room(room));
        channels.push(state.keys.roomChannel(room));
      }
    }
    const order = ++this.publishCounter;
    const epoch = state.epochCandidate;
    return new Promise<Position>((resolve, reject) => {
      this.gate.submit({
        order,
        since: this.clock.now(),
        send: () =>
          this.commands.publish(keys, [
            state.runId,
            epoch,
            this.historySize,
            this.historyTtl,
            this.registry.instance,
            order,
            this.sharded ? "SPUBLISH" : "PUBLISH",
            payload,
            ...channels,
          ]),
        settle: (error, reply) => {
          if (error !== undefined) {
            reject(error);
            return;
          }
          const result = reply as { epoch: string; seq: number; runId: string };
          state.published(result.epoch, result.runId);
          resolve({ epoch: result.epoch, seq: result.seq });
        },
      });
    });
  }

  /** @internal Sends an ephemeral message on `channel`, after what this node published before. */
  publishEphemeral(channel: string, payload: Buffer): void {
    this.gate.submit({
      order: ++this.publishCounter,
      since: this.clock.now(),
      send: () =>
        this.sharded ? (this.redis as Cluster).spublish(channel, payload) : this.redis.publish(channel, payload),
    });
  }

  /** @internal */
  nodeChannel(tag: string): string {
    return this.keys.nodeChannel(tag);
  }

  /** @internal */
  report(error: Error): void {
    if (this.listenerCount("error") > 0) this.emit("error", error);
  }

  /** @internal */
  check(state: NamespaceState): Promise<{ runId: string; epoch: string | undefined; metaRunId: string | undefined }> {
    return this.commands.check(state.keys.meta);
  }

  // ---- private ----

  /**
   * Claims a tag, then subscribes the node's channel and the channels of the namespaces linked so
   * far, and only then announces the node: a node that others count is one that hears their requests.
   */
  private async start(): Promise<void> {
    await this.registry.claim();
    if (this.closed) return;
    await this.subscriber.acquire([this.keys.nodeChannel(this.registry.tag)]);
    await Promise.all([...this.namespaces.values()].map((state) => state.live()));
    if (this.closed) return;
    await this.registry.announce();
  }

  private receive(channel: string, buffer: Buffer): void {
    let decoded: ReturnType<typeof decode>;
    try {
      decoded = decode(buffer);
    } catch (error) {
      this.report(error as Error);
      return;
    }
    if (decoded.kind === STORED) {
      const state = this.namespaces.get(namespaceOf(channel, this.keys.prefix) ?? "");
      if (state === undefined || !this.subscriber.holds(channel)) return;
      state.deliverEntry(decoded.entry);
      return;
    }
    if (decoded.from === this.node) return;
    const state = this.namespaces.get(decoded.nsp);
    if (state === undefined || !this.subscriber.holds(channel)) return;
    state.deliverMessage(decoded.message, decoded.from);
  }

  private feedLost(): void {
    for (const state of this.namespaces.values()) state.feedLost();
    this.report(new Error("@tutti/redis: the subscriber connection was lost; the feed resumes on reconnect"));
  }

  private feedResumed(): void {
    for (const state of this.namespaces.values()) state.feedResumed();
  }
}

/** The namespace of a namespace channel `P:{N}:…`; undefined for a node channel. */
function namespaceOf(channel: string, prefix: string): string | undefined {
  if (!channel.startsWith(`${prefix}:{`)) return undefined;
  const end = channel.indexOf("}", prefix.length + 2);
  if (end === -1) return undefined;
  try {
    return decodeURIComponent(channel.slice(prefix.length + 2, end));
  } catch {
    return undefined;
  }
}

/** One namespace's link: its channels, its feed's dedupe state, the run_id and epoch it last saw. */
class NamespaceState implements NamespaceLink {
  /** The Redis run_id last seen with this namespace's meta (passed to the publish script). */
  runId = "";
  /** The epoch this node last saw (published or received); undefined before any. */
  private epoch: string | undefined;
  private lastSeq = 0;
  /** An epoch for the script to use if it must make one; replaced once used. */
  epochCandidate = newEpoch();
  private readonly rooms = new Map<string, number>();
  /** The run_id and epoch when the feed was lost, until it is back. */
  private lostAt: { readonly runId: string; readonly epoch: string | undefined } | undefined;
  private readonly base: Promise<void>;
  private closed = false;

  constructor(
    private readonly broker: RedisBroker,
    readonly name: string,
    readonly keys: NamespaceKeys,
    private readonly feed: NamespaceFeed,
  ) {
    this.base = broker.channels().acquire([keys.allChannel, keys.controlChannel]);
    // learn the run_id (and epoch) the namespace's history lives under, to tell later whether it survived
    broker.ready().then(
      () => this.learn(),
      () => {},
    );
  }

  /** Resolves once the namespace's own channels (`ca`, `ctl`) are subscribed. */
  live(): Promise<void> {
    return this.base;
  }

  publish(message: StoredMessage): Promise<Position> {
    if (this.closed) return Promise.reject(new Error(`@tutti/redis: namespace ${this.name} is closed`));
    return this.broker.publishStored(this, message);
  }

  broadcast(message: NodeMessage, room?: string): void {
    if (this.closed) return;
    const channel = room === undefined ? this.keys.controlChannel : this.keys.roomChannel(room);
    this.broker.publishEphemeral(channel, encodeEphemeral(this.broker.node, this.name, message));
  }

  sendTo(tag: string, message: NodeMessage): void {
    if (this.closed) return;
    this.broker.publishEphemeral(this.broker.nodeChannel(tag), encodeEphemeral(this.broker.node, this.name, message));
  }

  async subscribe(rooms: readonly string[]): Promise<void> {
    if (this.closed) throw new Error(`@tutti/redis: namespace ${this.name} is closed`);
    for (const room of rooms) this.rooms.set(room, (this.rooms.get(room) ?? 0) + 1);
    await Promise.all([this.base, this.broker.channels().acquire(rooms.map((room) => this.keys.roomChannel(room)))]);
  }

  unsubscribe(rooms: readonly string[]): void {
    if (this.closed) return;
    const released: string[] = [];
    for (const room of rooms) {
      const count = this.rooms.get(room);
      if (count === undefined) continue;
      if (count > 1) this.rooms.set(room, count - 1);
      else this.rooms.delete(room);
      released.push(this.keys.roomChannel(room));
    }
    this.broker.channels().release(released);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const channels = [this.keys.allChannel, this.keys.controlChannel];
    for (const [room, count] of this.rooms) for (let i = 0; i < count; i++) channels.push(this.keys.roomChannel(room));
    this.rooms.clear();
    this.broker.channels().release(channels);
    this.broker.unlink(this);
  }

  /** The publish script answered: remember its run_id, and make a new epoch candidate once one was used. */
  published(epoch: string, runId: string): void {
    this.runId = runId;
    if (epoch === this.epochCandidate) this.epochCandidate = newEpoch();
  }

  deliverEntry(entry: FeedEntry): void {
    if (this.closed) return;
    if (entry.epoch === this.epoch && entry.seq <= this.lastSeq) return; // one publish to several held rooms
    this.epoch = entry.epoch;
    this.lastSeq = entry.seq;
    if (entry.epoch === this.epochCandidate) this.epochCandidate = newEpoch();
    this.call(() => this.feed.onEntry(entry));
  }

  deliverMessage(message: NodeMessage, from: string): void {
    if (this.closed) return;
    this.call(() => this.feed.onMessage(message, from));
  }

  /** The subscriber connection dropped: remember what history was then, to compare once it is back. */
  feedLost(): void {
    this.lostAt ??= { runId: this.runId, epoch: this.epoch };
  }

  /** The subscriber is back and resubscribed: tell the feed whether history covers the gap. */
  feedResumed(): void {
    const lostAt = this.lostAt;
    this.lostAt = undefined;
    if (this.closed || this.feed.onFeedLost === undefined || lostAt === undefined) return;
    const { runId: knownRunId, epoch: knownEpoch } = lostAt;
    this.broker.check(this).then(
      (now) => {
        if (this.closed) return;
        this.runId = now.runId;
        const historyIntact =
          knownRunId !== "" &&
          now.runId === knownRunId &&
          (now.epoch === undefined ? knownEpoch === undefined : knownEpoch === undefined || now.epoch === knownEpoch);
        this.call(() => this.feed.onFeedLost?.({ historyIntact }));
      },
      () => {
        if (!this.closed) this.call(() => this.feed.onFeedLost?.({ historyIntact: false }));
      },
    );
  }

  private async learn(): Promise<void> {
    try {
      const now = await this.broker.check(this);
      if (this.runId === "") this.runId = now.runId;
    } catch {
      // learned from the first publish instead
    }
  }

  private call(callback: () => void): void {
    try {
      callback();
    } catch (error) {
      this.broker.report(error instanceof Error ? error : new Error(String(error)));
    }
  }
}

/** Creates the Redis broker on `redis` (an ioredis `Redis` or `Cluster`). */
export function createRedisBroker(redis: RedisClient, options?: RedisBrokerOptions): RedisBroker {
  return new RedisBroker(redis, options);
}
