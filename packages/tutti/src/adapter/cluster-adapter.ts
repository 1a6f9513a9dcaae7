import { randomBytes } from "node:crypto";
import { type Clock, systemClock } from "../clock.js";
import { TuttiError } from "../errors.js";
import {
  Adapter,
  type AdapterConstructor,
  type AdapterNamespace,
  type AdapterSocket,
  type BroadcastFlags,
  type BroadcastOptions,
  type BroadcastPacket,
  type Room,
  type SocketId,
} from "./adapter.js";
import {
  type Broker,
  CLUSTER_PROTOCOL_VERSION,
  type FeedEntry,
  type NamespaceFeed,
  type NamespaceLink,
  type NodeMessage,
} from "./broker.js";

/** What `fetchSockets()` gets of a socket on another node (socket.io's `SocketDetails`). */
export interface RemoteSocketDetails {
  readonly id: SocketId;
  readonly handshake: unknown;
  readonly rooms: readonly Room[];
  readonly data: unknown;
}

/** A socket as the cluster adapter reads it for another node's `fetchSockets`. */
interface DescribedSocket extends AdapterSocket {
  readonly handshake?: unknown;
  readonly data?: unknown;
}

/** The namespace as the cluster adapter uses it: a server-side emit from another node is handed to it. */
interface ClusterNamespace<S extends AdapterSocket> extends AdapterNamespace<S> {
  onServerSideEmit?(args: readonly unknown[]): void;
  readonly clock?: Clock;
}

export interface ClusterAdapterOptions {
  /**
   * How long `fetchSockets()`, `serverSideEmitWithAck()` and the other nodes' part of a broadcast
   * ack wait for answers, in ms (socket.io's `requestsTimeout`). A node declared down stops being
   * waited for at once. Default 5000.
   */
  requestsTimeout?: number;
  /** The most sockets one node sends in answer to `fetchSockets()`. Default 10000. */
  maxFetchedSockets?: number;
  /**
   * Where a failure the cluster could not hide gets its log line (besides the broker's `error`
   * event): a broadcast the broker refused, a subscription that failed. Default: `console`.
   */
  logger?: { warn(message: string): void };
}

/** An adapter class bound to a broker: `io.adapter(createClusterAdapter(broker))`. */
export type ClusterAdapterConstructor = AdapterConstructor & { readonly broker: Broker };

/** Message types between the nodes' adapters, and the protocol version that introduced each. */
const T = {
  /** volatile broadcast `{r, x, f, d}` */
  volatile: "vb",
  /** broadcast with acks `{id, r, x, f, d, to}` → `bc {id, n}` then `bk {id, r}` per client */
  ackBroadcast: "ba",
  clientCount: "bc",
  clientAck: "bk",
  /** socketsJoin / socketsLeave / disconnectSockets `{r, x, rooms | close}` */
  join: "sj",
  leave: "sl",
  disconnect: "sd",
  /** fetchSockets `{id, r, x}` → `fsr {id, s}` */
  fetch: "fs",
  fetchResponse: "fsr",
  /** serverSideEmit `{id?, d}` → `ser {id, r}` */
  serverEmit: "se",
  serverEmitResponse: "ser",
  /** an answer to a request type the receiver does not know `{id}` */
  unknown: "nak",
} as const;

/** Request types each protocol version answers (a node is only waited for if it knows the request). */
const ANSWERED_SINCE: Record<string, number> = { [T.ackBroadcast]: 1, [T.fetch]: 1, [T.serverEmit]: 1 };

interface Pending {
  /** Nodes whose answer is still awaited. */
  readonly missing: Set<string>;
  /** A node answered (`answer`), or will not (`answer` undefined: down, or it does not know the request). */
  onAnswer(from: string, message: NodeMessage | undefined): void;
  /** Responses within the request (a client's ack of a broadcast). */
  onExtra?(from: string, message: NodeMessage): void;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function optionsOf(opts: BroadcastOptions): { r: Room[]; x: Room[] } {
  return { r: [...opts.rooms], x: opts.except === undefined ? [] : [...opts.except] };
}

function broadcastOptions(message: NodeMessage, flags: BroadcastFlags = {}): BroadcastOptions {
  return {
    rooms: new Set(message.r as Room[]),
    except: new Set(message.x as Room[]),
    flags,
  };
}

/**
 * socket.io's cluster semantics over a `Broker`: broadcasts (stored ones delivered, here too, from
 * the broker's ordered feed), acked broadcasts, `fetchSockets`, `serverSideEmit[WithAck]`,
 * `socketsJoin/Leave`, `disconnectSockets` and `serverCount` across nodes. Local delivery is the
 * in-memory adapter's.
 *
 * Guarantees:
 * - a stored broadcast (not volatile, not acked, not local) reaches each matching socket of every
 *   node once, in the namespace's one order (the same on every node);
 * - a node receives the broadcasts of the rooms it hosts, of the whole namespace, and requests;
 * - a request never waits for a node declared down, nor for a node whose protocol version does not
 *   know it; it ends at `requestsTimeout` at the latest.
 */
export class ClusterAdapter<S extends AdapterSocket = AdapterSocket> extends Adapter<S> implements NamespaceFeed {
  readonly broker: Broker;
  readonly #link: NamespaceLink;
  readonly #timeout: number;
  readonly #maxFetched: number;
  readonly #logger: { warn(message: string): void };
  readonly #pending = new Map<string, Pending>();
  #nextRequest = 0;
  readonly #requestPrefix = randomBytes(4).toString("hex");
  #epoch = "";
  #lastSeq = -1;
  #closed = false;
  /** Hosted room → its subscription, resolved once live. */
  readonly #subscriptions = new Map<Room, Promise<void>>();

  constructor(nsp: AdapterNamespace<S>, broker: Broker, opts: ClusterAdapterOptions = {}) {
    super(nsp);
    this.broker = broker;
    this.#timeout = opts.requestsTimeout ?? 5000;
    this.#maxFetched = opts.maxFetchedSockets ?? 10_000;
    this.#logger = opts.logger ?? console;
    this.#link = broker.namespace(nsp.name, this);
    broker.on("node-down", this.#onNodeDown);
    this.on("create-room", (room) => {
      const live = this.#link.subscribe([room]);
      live.catch((err: unknown) => this.#report(err));
      this.#subscriptions.set(room, live);
    });
    this.on("delete-room", (room) => {
      this.#subscriptions.delete(room);
      this.#link.unsubscribe([room]);
    });
  }

  /** Resolves once this node receives the namespace's room-less broadcasts and requests. */
  override init(): Promise<void> {
    return this.#link.subscribe([]);
  }

  get #clock(): Clock {
    return (this.nsp as ClusterNamespace<S>).clock ?? systemClock;
  }

  override close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.broker.off("node-down", this.#onNodeDown);
    this.#link.close();
    for (const [id, pending] of this.#pending) {
      this.#pending.delete(id);
      for (const tag of [...pending.missing]) pending.onAnswer(tag, undefined);
    }
  }

  override serverCount(): Promise<number> {
    return Promise.resolve(this.broker.members().size);
  }

  /**
   * Joins resolve once this node receives the rooms' broadcasts: every broadcast made after the
   * returned promise resolves reaches the socket, from any node.
   */
  override addAll(id: SocketId, rooms: Iterable<Room>): Promise<void> {
    const list = [...rooms];
    super.addAll(id, list);
    const live: Promise<void>[] = [];
    for (const room of list) {
      const subscription = this.#subscriptions.get(room);
      if (subscription !== undefined) live.push(subscription);
    }
    return Promise.all(live).then(
      () => undefined,
      () => undefined,
    );
  }

  // ---- broadcasting ----

  override broadcast(packet: BroadcastPacket, opts: BroadcastOptions): void {
    const flags = opts.flags ?? {};
    if (flags.local) {
      super.broadcast(packet, opts);
      return;
    }
    const { r, x } = optionsOf(opts);
    if (flags.volatile) {
      super.broadcast(packet, opts);
      this.#link.broadcast({ t: T.volatile, r, x, f: flags.compress !== false, d: packet.data }, this.#roomChannel(r));
      return;
    }
    // stored: every node, this one included, delivers it from the feed, in the feed's order
    this.#link.publish({ rooms: r, except: x, compress: flags.compress !== false, data: packet.data }).catch((err) => {
      // not stored, not sent: this node's sockets still get it, and the loss elsewhere is reported
      super.broadcast(packet, opts);
      this.#report(
        new TuttiError(
          "BROKER_UNAVAILABLE",
          `broadcast of "${String(packet.data[0])}" in namespace ${this.nsp.name} reached this node only: ${errorText(err)}`,
          { cause: err },
        ),
      );
    });
  }

  /** One room: the room's channel reaches only the nodes that host it; else every node. */
  #roomChannel(rooms: readonly Room[]): Room | undefined {
    return rooms.length === 1 ? rooms[0] : undefined;
  }

  override broadcastWithAck(
    packet: BroadcastPacket,
    opts: BroadcastOptions,
    clientCountCallback: (clientCount: number) => void,
    ack: (response: unknown) => void,
  ): () => void {
    const flags = opts.flags ?? {};
    if (flags.local) return super.broadcastWithAck(packet, opts, clientCountCallback, ack);
    const id = this.#requestId();
    const waitFor = this.#others(T.ackBroadcast);
    const pending: Pending = {
      missing: waitFor.answering,
      onAnswer: (from, message) => {
        if (!pending.missing.delete(from)) return;
        clientCountCallback(typeof message?.n === "number" ? message.n : 0);
      },
      onExtra: (from, message) => {
        if (message.t === T.clientAck) ack(message.r);
        else pending.onAnswer(from, message);
      },
    };
    // nodes too old to know the request count as having no recipient
    for (let i = 0; i < waitFor.silent; i++) clientCountCallback(0);
    const timeout = flags.timeout ?? this.#timeout;
    if (pending.missing.size > 0) {
      this.#pending.set(id, pending);
      const { r, x } = optionsOf(opts);
      this.#link.broadcast({ t: T.ackBroadcast, id, r, x, f: flags.compress !== false, d: packet.data, to: timeout });
    }
    const cancelLocal = super.broadcastWithAck(packet, opts, clientCountCallback, ack);
    const timer = this.#clock.setTimeout(() => this.#pending.delete(id), timeout);
    return () => {
      this.#clock.clearTimeout(timer);
      this.#pending.delete(id);
      cancelLocal();
    };
  }

  // ---- requests ----

  override async fetchSockets(opts: BroadcastOptions): Promise<S[]> {
    const local = await super.fetchSockets(opts);
    if (opts.flags?.local) return local;
    const { r, x } = optionsOf(opts);
    const remote: RemoteSocketDetails[] = [];
    await this.#request({ t: T.fetch, r, x }, opts.flags?.timeout, (message) => {
      const sockets = message?.s;
      if (Array.isArray(sockets)) remote.push(...(sockets as RemoteSocketDetails[]));
    });
    // remote sockets come as their details; the server's operator wraps them in RemoteSocket
    return [...local, ...(remote as unknown as S[])];
  }

  override sockets(rooms: ReadonlySet<Room>): Promise<Set<SocketId>> {
    return this.fetchSockets({ rooms }).then((sockets) => new Set(sockets.map((socket) => socket.id)));
  }

  override addSockets(opts: BroadcastOptions, rooms: readonly Room[]): void {
    super.addSockets(opts, rooms);
    if (!opts.flags?.local) this.#link.broadcast({ t: T.join, ...optionsOf(opts), rooms: [...rooms] });
  }

  override delSockets(opts: BroadcastOptions, rooms: readonly Room[]): void {
    super.delSockets(opts, rooms);
    if (!opts.flags?.local) this.#link.broadcast({ t: T.leave, ...optionsOf(opts), rooms: [...rooms] });
  }

  override disconnectSockets(opts: BroadcastOptions, close: boolean): void {
    if (!opts.flags?.local) this.#link.broadcast({ t: T.disconnect, ...optionsOf(opts), close });
    super.disconnectSockets(opts, close);
  }

  override serverSideEmit(packet: readonly unknown[]): void {
    const last = packet[packet.length - 1];
    if (typeof last !== "function") {
      this.#link.broadcast({ t: T.serverEmit, d: [...packet] });
      return;
    }
    const ack = last as (err: Error | null, responses: unknown[]) => void;
    const responses: unknown[] = [];
    this.#request({ t: T.serverEmit, d: packet.slice(0, -1) }, undefined, (message) => {
      if (message !== undefined && "r" in message) responses.push(message.r);
    }).then(
      () => ack(null, responses),
      (err: Error) => ack(err, responses),
    );
  }

  /**
   * Asks every other node that knows the request; `onAnswer` gets each answer. Resolves when every
   * such node answered or went down; rejects with socket.io's wording at the timeout.
   */
  #request(
    message: NodeMessage,
    timeout: number | undefined,
    onAnswer: (message: NodeMessage | undefined) => void,
  ): Promise<void> {
    const waitFor = this.#others(message.t);
    const expected = waitFor.answering.size;
    if (expected === 0) return Promise.resolve();
    const id = this.#requestId();
    return new Promise<void>((resolve, reject) => {
      let answered = 0;
      const timer = this.#clock.setTimeout(() => {
        this.#pending.delete(id);
        reject(
          new Error(
            message.t === T.fetch
              ? `timeout reached: only ${answered} responses received out of ${expected}`
              : `timeout reached: missing ${expected - answered} responses`,
          ),
        );
      }, timeout ?? this.#timeout);
      const pending: Pending = {
        missing: waitFor.answering,
        onAnswer: (from, answer) => {
          if (!pending.missing.delete(from)) return;
          if (answer !== undefined) {
            answered++;
            onAnswer(answer);
          }
          if (pending.missing.size === 0) {
            this.#clock.clearTimeout(timer);
            this.#pending.delete(id);
            resolve();
          }
        },
      };
      this.#pending.set(id, pending);
      this.#link.broadcast({ ...message, id });
    });
  }

  /** The other live nodes that answer request type `t`, and how many others will not. */
  #others(t: string): { answering: Set<string>; silent: number } {
    const since = ANSWERED_SINCE[t] ?? 1;
    const answering = new Set<string>();
    let silent = 0;
    for (const [tag, node] of this.broker.members()) {
      if (tag === this.broker.tag) continue;
      if (node.version >= since) answering.add(tag);
      else silent++;
    }
    return { answering, silent };
  }

  #requestId(): string {
    this.#nextRequest = (this.#nextRequest + 1) % Number.MAX_SAFE_INTEGER;
    return `${this.#requestPrefix}${this.#nextRequest.toString(36)}`;
  }

  readonly #onNodeDown = (tag: string): void => {
    for (const pending of [...this.#pending.values()]) if (pending.missing.has(tag)) pending.onAnswer(tag, undefined);
  };

  /** A failure goes to this adapter's and the broker's `error` listeners (never thrown from here) and to the log. */
  #report(err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    if (this.listenerCount("error") > 0) this.emit("error", error);
    if (this.broker.listenerCount("error") > 0) this.broker.emit("error", error);
    this.#logger.warn(`[tutti cluster] ${error.message}`);
  }

  // ---- the feed ----

  onEntry(entry: FeedEntry): void {
    if (this.#closed) return;
    if (entry.epoch !== this.#epoch) {
      // a new history: its positions start again
      this.#epoch = entry.epoch;
      this.#lastSeq = -1;
    }
    // a message to several rooms this node hosts comes once per room
    if (entry.seq <= this.#lastSeq) return;
    this.#lastSeq = entry.seq;
    super.broadcast(
      { data: entry.data },
      { rooms: new Set(entry.rooms), except: new Set(entry.except), flags: { compress: entry.compress } },
    );
  }

  onMessage(message: NodeMessage, from: string): void {
    if (this.#closed) return;
    switch (message.t) {
      case T.volatile:
        super.broadcast(
          { data: message.d as unknown[] },
          broadcastOptions(message, { volatile: true, compress: message.f !== false }),
        );
        return;
      case T.ackBroadcast:
        this.#answerAckBroadcast(message, from);
        return;
      case T.join:
        super.addSockets(broadcastOptions(message), message.rooms as Room[]);
        return;
      case T.leave:
        super.delSockets(broadcastOptions(message), message.rooms as Room[]);
        return;
      case T.disconnect:
        super.disconnectSockets(broadcastOptions(message), message.close === true);
        return;
      case T.fetch:
        this.#answerFetch(message, from);
        return;
      case T.serverEmit:
        this.#answerServerEmit(message, from);
        return;
      case T.clientCount:
      case T.clientAck:
        this.#pending.get(message.id as string)?.onExtra?.(from, message);
        return;
      case T.fetchResponse:
      case T.serverEmitResponse:
        this.#pending.get(message.id as string)?.onAnswer(from, message);
        return;
      case T.unknown:
        this.#pending.get(message.id as string)?.onAnswer(from, undefined);
        return;
      default:
        // a newer node's request: say so, so that it does not wait for this node
        if (typeof message.id === "string") this.#link.sendTo(from, { t: T.unknown, id: message.id });
    }
  }

  #answerAckBroadcast(message: NodeMessage, from: string): void {
    const id = message.id as string;
    const cancel = super.broadcastWithAck(
      { data: message.d as unknown[] },
      broadcastOptions(message, { compress: message.f !== false }),
      (n) => this.#link.sendTo(from, { t: T.clientCount, id, n }),
      (r) => this.#link.sendTo(from, { t: T.clientAck, id, r }),
    );
    const timeout = typeof message.to === "number" ? message.to : this.#timeout;
    this.#clock.setTimeout(cancel, timeout);
  }

  #answerFetch(message: NodeMessage, from: string): void {
    super.fetchSockets(broadcastOptions(message)).then((sockets) => {
      const s: RemoteSocketDetails[] = [];
      for (const socket of sockets.slice(0, this.#maxFetched) as DescribedSocket[]) {
        s.push({
          id: socket.id,
          handshake: socket.handshake,
          rooms: [...(this.socketRooms(socket.id) ?? [])],
          data: socket.data,
        });
      }
      this.#link.sendTo(from, { t: T.fetchResponse, id: message.id as string, s });
    });
  }

  #answerServerEmit(message: NodeMessage, from: string): void {
    const data = message.d as unknown[];
    const nsp = this.nsp as ClusterNamespace<S>;
    if (typeof message.id !== "string") {
      nsp.onServerSideEmit?.(data);
      return;
    }
    const id = message.id;
    let answered = false;
    const reply = (r: unknown): void => {
      if (answered) return;
      answered = true;
      this.#link.sendTo(from, { t: T.serverEmitResponse, id, r });
    };
    nsp.onServerSideEmit?.([...data, reply]);
  }
}

/**
 * An adapter class for `io.adapter()` on `broker`. The server also hands the broker to its engine,
 * so that any node serves any session (no sticky sessions).
 */
export function createClusterAdapter(broker: Broker, opts: ClusterAdapterOptions = {}): ClusterAdapterConstructor {
  class BoundClusterAdapter extends ClusterAdapter {
    static readonly broker = broker;
    constructor(nsp: AdapterNamespace) {
      super(nsp, broker, opts);
    }
  }
  return BoundClusterAdapter;
}

export { CLUSTER_PROTOCOL_VERSION };
