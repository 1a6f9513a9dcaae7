import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import {
  type Broker,
  type BrokerEvents,
  CLUSTER_PROTOCOL_VERSION,
  type FeedEntry,
  type NamespaceFeed,
  type NamespaceLink,
  type NodeInfo,
  type NodeMessage,
  type Position,
} from "../adapter/broker.js";
import {
  type ClusterAdapterConstructor,
  type ClusterAdapterOptions,
  createClusterAdapter,
} from "../adapter/cluster-adapter.js";
import { type Clock, type ClockTimer, systemClock, unrefTimer } from "../clock.js";
import { TuttiError } from "../errors.js";
import { decode, encode, type IpcBody, K } from "./ipc-codec.js";

/** A worker's end of its channel to the primary (the process's IPC channel by default). */
export interface WorkerChannel {
  /** Sends one message; false when the channel is closed. */
  send(message: unknown): boolean;
  /** Starts delivering the channel's messages and its end; returns a function that stops it. */
  listen(onMessage: (message: unknown) => void, onDisconnect: () => void): () => void;
}

export interface WorkerBrokerOptions {
  /** How often the worker pings the primary, in ms. Default 2000. */
  heartbeatInterval?: number;
  /**
   * With no answer from the primary for this long (ms), the worker stops waiting for it: the
   * other nodes are down for it, publishes reject, ephemeral messages are dropped. Default 6000.
   */
  heartbeatTimeout?: number;
  /** How long a publish, a subscribe or a `locate` waits for the primary's answer, in ms. Default 5000. */
  requestTimeout?: number;
  /** The most requests awaiting the primary's answer; one more rejects at once. Default 10000. */
  maxPending?: number;
  /** The node's tag; default: 6 random base64url characters. */
  tag?: string;
  /** The channel to the primary; default: this process's IPC channel (a node:cluster worker's). */
  channel?: WorkerChannel;
  clock?: Clock;
}

interface Request {
  resolve(body: IpcBody): void;
  reject(err: Error): void;
  timer: ClockTimer;
}

interface Link {
  readonly feed: NamespaceFeed;
  /** Room → subscription count, as the primary holds it: sent again when the worker joins again. */
  readonly rooms: Map<string, number>;
}

/** The IPC channel of this process (a node:cluster worker or any forked child). */
export function processChannel(): WorkerChannel {
  return {
    send(message) {
      if (typeof process.send !== "function" || !process.connected) return false;
      // with a callback a failed send is reported there, not emitted as the process's error
      process.send(message as never, undefined, {}, () => undefined);
      return true;
    },
    listen(onMessage, onDisconnect) {
      process.on("message", onMessage);
      process.on("disconnect", onDisconnect);
      return () => {
        process.off("message", onMessage);
        process.off("disconnect", onDisconnect);
      };
    },
  };
}

function unreachable(): Error {
  return new Error("the cluster primary is not reachable");
}

/**
 * A `Broker` for a node:cluster worker: the primary (`setupPrimary()`) runs the cluster's hub and
 * this worker is one node of it, over IPC. Only messages tagged as Tutti's are read; the app may
 * use the channel too.
 *
 * Bounded: at most `maxPending` requests await the primary, each for `requestTimeout` at most;
 * when the primary does not answer pings for `heartbeatTimeout`, publishes reject at once and
 * ephemeral messages are dropped (reported through `error`) until it answers again. Then the worker
 * joins again with its subscriptions, and its feeds report the gap (`onFeedLost`).
 */
export class WorkerBroker extends EventEmitter<BrokerEvents> implements Broker {
  readonly tag: string;
  readonly #channel: WorkerChannel;
  readonly #stopListening: () => void;
  readonly #clock: Clock;
  readonly #interval: number;
  readonly #timeout: number;
  readonly #requestTimeout: number;
  readonly #maxPending: number;
  #advanced = false;
  readonly #members = new Map<string, NodeInfo>();
  #secret: Uint8Array | undefined;
  #address: string | undefined;
  readonly #links = new Map<string, Link>();
  readonly #requests = new Map<number, Request>();
  #nextId = 0;
  /** Welcomed and answering pings. */
  #reachable = false;
  #welcomed = false;
  #helloSent = false;
  #lastPong: number;
  #lastTick: number;
  #timer: ClockTimer | undefined;
  #closed = false;
  #disconnected = false;
  readonly #ready: Promise<void>;
  #settleReady: ((err?: Error) => void) | undefined;

  constructor(opts: WorkerBrokerOptions = {}) {
    super();
    this.tag = opts.tag ?? randomBytes(6).toString("base64url").slice(0, 6);
    this.#clock = opts.clock ?? systemClock;
    this.#interval = opts.heartbeatInterval ?? 2000;
    this.#timeout = opts.heartbeatTimeout ?? 6000;
    if (!(this.#interval > 0) || !(this.#timeout > this.#interval))
      throw new TuttiError("INVALID_OPTION", "heartbeatTimeout must be longer than heartbeatInterval (> 0)");
    this.#requestTimeout = opts.requestTimeout ?? 5000;
    this.#maxPending = opts.maxPending ?? 10_000;
    this.#channel = opts.channel ?? processChannel();
    this.#members.set(this.tag, { tag: this.tag, version: CLUSTER_PROTOCOL_VERSION });
    this.#ready = new Promise<void>((resolve, reject) => {
      this.#settleReady = (err) => {
        this.#settleReady = undefined;
        if (err === undefined) resolve();
        else reject(err);
      };
    });
    // nobody may ask: a failed join is also reported through `error`
    this.#ready.catch(() => undefined);
    this.#stopListening = this.#channel.listen(
      (message) => this.#receive(message),
      () => this.#onDisconnect(),
    );
    this.#lastPong = this.#lastTick = this.#clock.now();
    this.#hello();
    this.#schedule();
  }

  /**
   * Whether messages go to the primary: once welcomed, or right after a hello (the channel keeps
   * order, so the primary reads them after the hello). Not while the primary is away: they would
   * only pile up in the channel.
   */
  get #sendable(): boolean {
    return this.#reachable || this.#helloSent;
  }

  ready(): Promise<void> {
    return this.#ready;
  }

  members(): ReadonlyMap<string, NodeInfo> {
    return this.#members;
  }

  locate(tag: string): Promise<NodeInfo | undefined> {
    const known = this.#members.get(tag);
    if (known?.address !== undefined) return Promise.resolve(known);
    if (!this.#sendable) return Promise.resolve(known);
    return this.#ask({ k: K.locate, tag }).then(
      (body) => body.node as NodeInfo | undefined,
      () => known,
    );
  }

  setAddress(address: string): void {
    this.#address = address;
    this.#members.set(this.tag, { tag: this.tag, version: CLUSTER_PROTOCOL_VERSION, address });
    if (this.#sendable) this.#post({ k: K.address, a: address });
  }

  secret(): Promise<Uint8Array> {
    const secret = this.#secret;
    if (secret !== undefined) return Promise.resolve(secret);
    return this.#ready.then(() => this.#secret as Uint8Array);
  }

  namespace(name: string, feed: NamespaceFeed): NamespaceLink {
    const link: Link = { feed, rooms: new Map() };
    this.#links.set(name, link);
    if (this.#sendable) this.#post({ k: K.link, n: name });
    let open = true;
    return {
      publish: (m) => {
        if (!open || this.#closed) return Promise.reject(new Error("the broker link is closed"));
        return this.#ask({ k: K.publish, n: name, m }).then((body) => body.p as Position);
      },
      broadcast: (m, r) => {
        if (open) this.#post({ k: K.broadcast, n: name, m, r });
      },
      sendTo: (to, m) => {
        if (open) this.#post({ k: K.sendTo, n: name, m, to });
      },
      subscribe: (rooms) => {
        if (!open) return Promise.resolve();
        for (const room of rooms) link.rooms.set(room, (link.rooms.get(room) ?? 0) + 1);
        // while the primary is away the rooms are only recorded: joining again sends them all
        if (!this.#sendable) return Promise.resolve();
        return this.#ask({ k: K.subscribe, n: name, rooms: [...rooms] }).then(() => undefined);
      },
      unsubscribe: (rooms) => {
        if (!open) return;
        const gone: string[] = [];
        for (const room of rooms) {
          const count = link.rooms.get(room);
          if (count === undefined) continue;
          if (count > 1) link.rooms.set(room, count - 1);
          else link.rooms.delete(room);
          gone.push(room);
        }
        if (gone.length > 0 && this.#sendable) this.#post({ k: K.unsubscribe, n: name, rooms: gone });
      },
      close: () => {
        if (!open) return;
        open = false;
        if (this.#links.get(name) === link) this.#links.delete(name);
        if (this.#sendable) this.#post({ k: K.unlink, n: name });
      },
    };
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#sendable) this.#post({ k: K.bye });
    this.#closed = true;
    this.#reachable = false;
    this.#helloSent = false;
    this.#clock.clearTimeout(this.#timer);
    this.#stopListening();
    this.#failRequests(new Error("the broker is closed"));
    this.#settleReady?.(new Error("the broker is closed"));
    return Promise.resolve();
  }

  // ---- the channel ----

  #send(body: IpcBody, advanced = this.#advanced): boolean {
    try {
      return this.#channel.send(encode(body, advanced));
    } catch (err) {
      this.#report(err);
      return false;
    }
  }

  /** A fire-and-forget message: dropped, and reported, when the primary is away. */
  #post(body: IpcBody): void {
    if (this.#sendable && this.#send(body)) return;
    if (!this.#closed) this.#report(new Error(`${unreachable().message}: a "${body.k}" message was dropped`));
  }

  #ask(body: IpcBody): Promise<IpcBody> {
    if (!this.#sendable) return Promise.reject(unreachable());
    if (this.#requests.size >= this.#maxPending)
      return Promise.reject(new Error(`${this.#maxPending} requests are awaiting the cluster primary`));
    this.#nextId = (this.#nextId + 1) % Number.MAX_SAFE_INTEGER;
    const id = this.#nextId;
    return new Promise<IpcBody>((resolve, reject) => {
      const timer = this.#clock.setTimeout(() => {
        this.#requests.delete(id);
        reject(new Error(`the cluster primary did not answer "${body.k}" within ${this.#requestTimeout} ms`));
      }, this.#requestTimeout);
      this.#requests.set(id, { resolve, reject, timer });
      if (!this.#send({ ...body, id })) {
        this.#clock.clearTimeout(timer);
        this.#requests.delete(id);
        reject(unreachable());
      }
    });
  }

  #failRequests(err: Error): void {
    for (const [id, request] of this.#requests) {
      this.#requests.delete(id);
      this.#clock.clearTimeout(request.timer);
      request.reject(err);
    }
  }

  /** Joins (again): the primary gets this node's address and subscriptions, and answers with a welcome. */
  #hello(): void {
    if (this.#closed || this.#disconnected) return;
    const links: [string, [string, number][]][] = [];
    for (const [name, link] of this.#links) links.push([name, [...link.rooms]]);
    // before the welcome the channel's mode is unknown: this message is readable on any channel
    this.#helloSent = this.#send(
      { k: K.hello, tag: this.tag, version: CLUSTER_PROTOCOL_VERSION, address: this.#address, links },
      false,
    );
  }

  #receive(message: unknown): void {
    let body: IpcBody | undefined;
    try {
      body = decode(message);
    } catch (err) {
      this.#report(err);
      return;
    }
    if (body === undefined || this.#closed) return;
    switch (body.k) {
      case K.welcome:
        this.#welcome(body);
        return;
      case K.pong:
        this.#lastPong = this.#clock.now();
        if (!this.#reachable && !this.#helloSent) this.#hello();
        return;
      case K.entry: {
        const feed = this.#links.get(body.n as string)?.feed;
        if (feed !== undefined) this.#deliver(() => feed.onEntry(body.e as FeedEntry));
        return;
      }
      case K.message: {
        const feed = this.#links.get(body.n as string)?.feed;
        if (feed !== undefined) this.#deliver(() => feed.onMessage(body.m as NodeMessage, body.f as string));
        return;
      }
      case K.ok:
      case K.err:
        this.#answer(body);
        return;
      case K.up: {
        const node = body.node as NodeInfo;
        if (node.tag === this.tag) return;
        const known = this.#members.has(node.tag);
        this.#members.set(node.tag, node);
        if (!known) this.emit("node-up", node);
        return;
      }
      case K.down: {
        const tag = body.tag as string;
        if (this.#members.delete(tag)) this.emit("node-down", tag);
        return;
      }
      case K.evicted:
        // the primary declared this worker dead (it was stopped, or too busy to ping): join again
        this.#lost(new Error("the cluster primary removed this worker (no heartbeat within its timeout)"));
        this.#lastPong = this.#clock.now();
        this.#hello();
    }
  }

  /** A feed's failure is reported, never thrown into the channel's listener (it would end the worker). */
  #deliver(task: () => void): void {
    try {
      task();
    } catch (err) {
      this.#report(err);
    }
  }

  #answer(body: IpcBody): void {
    const id = body.id as number;
    if (id === -1 && body.k === K.err) {
      // the primary refused the hello (the tag is in use)
      const err = new Error(`the cluster primary refused this worker: ${String(body.e)}`);
      this.#settleReady?.(err);
      this.#report(err);
      return;
    }
    const request = this.#requests.get(id);
    if (request === undefined) return;
    this.#requests.delete(id);
    this.#clock.clearTimeout(request.timer);
    if (body.k === K.ok) request.resolve(body);
    else request.reject(new Error(String(body.e)));
  }

  #welcome(body: IpcBody): void {
    this.#advanced = body.advanced === true;
    this.#secret = new Uint8Array(body.secret as Uint8Array);
    this.#reachable = true;
    this.#helloSent = false;
    this.#lastPong = this.#clock.now();
    const members = new Map<string, NodeInfo>();
    for (const node of body.members as NodeInfo[]) if (node.tag !== this.tag) members.set(node.tag, node);
    for (const tag of [...this.#members.keys()]) {
      if (tag === this.tag || members.has(tag)) continue;
      this.#members.delete(tag);
      this.emit("node-down", tag);
    }
    for (const [tag, node] of members) {
      const known = this.#members.has(tag);
      this.#members.set(tag, node);
      if (!known) this.emit("node-up", node);
    }
    if (this.#welcomed) {
      // joined again: what was published while this worker was out of the cluster did not reach it
      for (const link of this.#links.values()) link.feed.onFeedLost?.({ historyIntact: false });
    }
    this.#welcomed = true;
    this.#settleReady?.();
  }

  /** The primary is away: stop waiting for the other nodes and for answers. */
  #lost(err: Error): void {
    const was = this.#sendable;
    this.#reachable = false;
    this.#helloSent = false;
    for (const tag of [...this.#members.keys()]) {
      if (tag === this.tag) continue;
      this.#members.delete(tag);
      this.emit("node-down", tag);
    }
    this.#failRequests(err);
    if (was) this.#report(err);
  }

  #onDisconnect(): void {
    this.#disconnected = true;
    this.#lost(new Error("the channel to the cluster primary closed"));
    this.#clock.clearTimeout(this.#timer);
    this.#settleReady?.(unreachable());
  }

  #schedule(): void {
    this.#timer = this.#clock.setTimeout(() => this.#tick(), this.#interval);
    unrefTimer(this.#timer);
  }

  #tick(): void {
    if (this.#closed || this.#disconnected) return;
    const now = this.#clock.now();
    // a tick far later than due means this process was stopped: the primary's silence is not its fault
    if (now - this.#lastTick > this.#timeout) this.#lastPong = now;
    this.#lastTick = now;
    if (this.#sendable && now - this.#lastPong > this.#timeout) {
      const hint = this.#welcomed ? "" : " (does the primary run setupPrimary() or runCluster()?)";
      this.#lost(new Error(`the cluster primary did not answer for ${this.#timeout} ms${hint}`));
    }
    // pings go out even while the primary is away: its next pong brings the worker back
    this.#send({ k: K.ping });
    this.#schedule();
  }

  #report(err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    if (this.listenerCount("error") > 0) this.emit("error", error);
  }
}

export interface WorkerAdapterOptions extends ClusterAdapterOptions, WorkerBrokerOptions {}

/**
 * The adapter of a node:cluster worker whose primary runs `setupPrimary()` (or `runCluster()`):
 * `new Server(http, { adapter: createWorkerAdapter() })`. The worker is one node of the cluster;
 * with it the server also serves the other workers' sessions (no sticky sessions).
 */
export function createWorkerAdapter(opts: WorkerAdapterOptions = {}): ClusterAdapterConstructor {
  if (opts.channel === undefined && typeof process.send !== "function")
    throw new TuttiError("INVALID_OPTION", "createWorkerAdapter() runs in a node:cluster worker (no IPC channel here)");
  return createClusterAdapter(new WorkerBroker(opts), opts);
}
