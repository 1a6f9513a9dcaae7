import cluster, { type Worker } from "node:cluster";
import { EventEmitter } from "node:events";
import {
  CLUSTER_PROTOCOL_VERSION,
  type NamespaceLink,
  type NodeInfo,
  type NodeMessage,
  type StoredMessage,
} from "../adapter/broker.js";
import { type MemoryBroker, MemoryHub } from "../adapter/memory-broker.js";
import { type Clock, type ClockTimer, systemClock, unrefTimer } from "../clock.js";
import { TuttiError } from "../errors.js";
import { decode, encode, type IpcBody, K } from "./ipc-codec.js";

export interface PrimaryOptions {
  /** How often the primary checks the workers' heartbeats, in ms (workers ping as often). Default 2000. */
  heartbeatInterval?: number;
  /** A worker silent for longer is removed from the cluster (`node-down` for the others), in ms. Default 6000. */
  heartbeatTimeout?: number;
  clock?: Clock;
}

/** Why a worker left the cluster: its process ended, it stopped answering, or it closed its broker. */
export type WorkerLeaveReason = "exit" | "timeout" | "left";

export interface PrimaryHubEvents {
  /** A worker joined the cluster (or joined again after it was removed). */
  "worker-up": [tag: string, name: string];
  "worker-down": [tag: string, reason: WorkerLeaveReason];
}

/** The primary's end of one worker's channel. */
export interface WorkerPeer {
  /** A name for events and errors (the cluster worker's id). */
  readonly name: string;
  /** Whether the channel carries bodies as they are (`serialization: "advanced"`). */
  readonly advanced: boolean;
  /** Sends one message; false when the worker is gone. */
  send(message: unknown): boolean;
}

/** One worker as the primary serves it; `receive` every message of its channel, `close` when it is gone. */
export interface WorkerConnection {
  /** Handles one message; false when it is not Tutti's (the app's own IPC). */
  receive(message: unknown): boolean;
  /** The worker is gone: the other workers see `node-down` at once. */
  close(): void;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The node:cluster primary's broker for its workers: one `MemoryHub` whose nodes are the workers,
 * served over IPC. Each worker is one node; it leaves the cluster when its process exits (at once)
 * or when it has not been heard from within `heartbeatTimeout`; a worker that was removed and
 * speaks again joins again, with a gap in its feeds (`onFeedLost`).
 */
export class PrimaryHub extends EventEmitter<PrimaryHubEvents> {
  readonly hub = new MemoryHub();
  readonly #interval: number;
  readonly #timeout: number;
  readonly #clock: Clock;
  readonly #connections = new Set<Connection>();
  #timer: ClockTimer | undefined;
  #lastCheck: number;
  #closed = false;

  constructor(opts: PrimaryOptions = {}) {
    super();
    this.#interval = opts.heartbeatInterval ?? 2000;
    this.#timeout = opts.heartbeatTimeout ?? 6000;
    if (!(this.#interval > 0) || !(this.#timeout > this.#interval))
      throw new TuttiError("INVALID_OPTION", "heartbeatTimeout must be longer than heartbeatInterval (> 0)");
    this.#clock = opts.clock ?? systemClock;
    this.#lastCheck = this.#clock.now();
    this.#schedule();
  }

  get heartbeatTimeout(): number {
    return this.#timeout;
  }

  /** Serves one worker. */
  connect(peer: WorkerPeer): WorkerConnection {
    const connection = new Connection(this, peer, this.#clock);
    this.#connections.add(connection);
    return {
      receive: (message) => connection.receive(message),
      close: () => {
        this.#connections.delete(connection);
        connection.leave("exit");
      },
    };
  }

  /** Stops serving: every worker leaves the cluster. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clock.clearTimeout(this.#timer);
    for (const connection of this.#connections) connection.leave("left");
    this.#connections.clear();
  }

  /** Tells the other workers that a node joined or announced its address. */
  announce(info: NodeInfo, from: Connection): void {
    for (const connection of this.#connections) if (connection !== from) connection.send({ k: K.up, node: info });
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = this.#clock.setTimeout(() => this.#check(), this.#interval);
    unrefTimer(this.#timer);
  }

  #check(): void {
    const now = this.#clock.now();
    // a check far later than due means this process itself was stopped: nobody was heard meanwhile
    const stalled = now - this.#lastCheck > this.#timeout;
    this.#lastCheck = now;
    for (const connection of this.#connections) {
      if (stalled) connection.lastSeen = now;
      else if (connection.joined && now - connection.lastSeen > this.#timeout) connection.evict();
    }
    this.#schedule();
  }
}

/** One worker's node on the hub. */
class Connection {
  readonly #owner: PrimaryHub;
  readonly #peer: WorkerPeer;
  readonly #clock: Clock;
  #broker: MemoryBroker | undefined;
  readonly #links = new Map<string, NamespaceLink>();
  lastSeen: number;
  /** Removed for silence: told so once, then ignored until it says hello again. */
  #evicted = false;
  #told = false;

  constructor(owner: PrimaryHub, peer: WorkerPeer, clock: Clock) {
    this.#owner = owner;
    this.#peer = peer;
    this.#clock = clock;
    this.lastSeen = clock.now();
  }

  get joined(): boolean {
    return this.#broker !== undefined;
  }

  send(body: IpcBody, advanced = this.#peer.advanced): void {
    try {
      this.#peer.send(encode(body, advanced));
    } catch {
      // the worker is going: its exit removes it
    }
  }

  receive(message: unknown): boolean {
    let body: IpcBody | undefined;
    try {
      body = decode(message);
    } catch {
      return false;
    }
    if (body === undefined) return false;
    this.lastSeen = this.#clock.now();
    if (body.k === K.hello) {
      this.#hello(body);
      return true;
    }
    const broker = this.#broker;
    if (broker === undefined) {
      if (typeof body.id === "number") this.send({ k: K.err, id: body.id, e: "this worker is not in the cluster" });
      if (this.#evicted && !this.#told) {
        this.#told = true;
        this.send({ k: K.evicted });
      }
      return true;
    }
    this.#handle(broker, body);
    return true;
  }

  #hello(body: IpcBody): void {
    this.leave("left");
    const tag = body.tag;
    if (typeof tag !== "string" || !/^[A-Za-z0-9_-]{6}$/.test(tag)) {
      this.send({ k: K.err, id: -1, e: `not a node tag: ${String(tag)}` }, false);
      return;
    }
    let broker: MemoryBroker;
    try {
      broker = this.#owner.hub.connect({
        tag,
        version: typeof body.version === "number" ? body.version : CLUSTER_PROTOCOL_VERSION,
      });
    } catch (err) {
      // a tag in use: the worker reports it and stays out
      this.send({ k: K.err, id: -1, e: errorText(err) }, false);
      return;
    }
    this.#broker = broker;
    this.#evicted = false;
    this.#told = false;
    broker.on("node-up", (node) => this.send({ k: K.up, node }));
    broker.on("node-down", (down) => this.send({ k: K.down, tag: down }));
    if (typeof body.address === "string") broker.setAddress(body.address);
    for (const [name, rooms] of (body.links as [string, [string, number][]][] | undefined) ?? []) {
      const link = this.#link(broker, name);
      const list: string[] = [];
      for (const [room, count] of rooms) for (let i = 0; i < count; i++) list.push(room);
      if (list.length > 0) void link.subscribe(list);
    }
    // the welcome goes in the form every channel reads: the worker learns the channel's mode from it
    this.send(
      {
        k: K.welcome,
        members: [...this.#owner.hub.members().values()],
        secret: Buffer.from(this.#owner.hub.secret),
        advanced: this.#peer.advanced,
      },
      false,
    );
    this.#owner.emit("worker-up", tag, this.#peer.name);
  }

  #link(broker: MemoryBroker, name: string): NamespaceLink {
    let link = this.#links.get(name);
    if (link === undefined) {
      link = broker.namespace(name, {
        onEntry: (e) => this.send({ k: K.entry, n: name, e }),
        onMessage: (m, f) => this.send({ k: K.message, n: name, m, f }),
      });
      this.#links.set(name, link);
    }
    return link;
  }

  #handle(broker: MemoryBroker, body: IpcBody): void {
    const name = body.n as string;
    switch (body.k) {
      case K.ping:
        this.send({ k: K.pong });
        return;
      case K.link:
        this.#link(broker, name);
        return;
      case K.unlink:
        this.#links.get(name)?.close();
        this.#links.delete(name);
        return;
      case K.publish: {
        const id = body.id as number;
        this.#link(broker, name)
          .publish(body.m as StoredMessage)
          .then(
            (p) => this.send({ k: K.ok, id, p }),
            (err: unknown) => this.send({ k: K.err, id, e: errorText(err) }),
          );
        return;
      }
      case K.broadcast:
        this.#link(broker, name).broadcast(body.m as NodeMessage, body.r as string | undefined);
        return;
      case K.sendTo:
        this.#link(broker, name).sendTo(body.to as string, body.m as NodeMessage);
        return;
      case K.subscribe: {
        const id = body.id as number;
        this.#link(broker, name)
          .subscribe(body.rooms as string[])
          .then(
            () => this.send({ k: K.ok, id }),
            (err: unknown) => this.send({ k: K.err, id, e: errorText(err) }),
          );
        return;
      }
      case K.unsubscribe:
        this.#links.get(name)?.unsubscribe(body.rooms as string[]);
        return;
      case K.address:
        broker.setAddress(body.a as string);
        this.#owner.announce(broker.info, this);
        return;
      case K.locate:
        this.send({ k: K.ok, id: body.id as number, node: this.#owner.hub.node(body.tag as string)?.info });
        return;
      case K.bye:
        this.leave("left");
        return;
      default:
        // a newer worker's request: answer so that it does not wait
        if (typeof body.id === "number") this.send({ k: K.err, id: body.id, e: `unknown request ${body.k}` });
    }
  }

  evict(): void {
    this.leave("timeout");
    this.#evicted = true;
  }

  /** Removes the worker's node: the others see `node-down` at once. */
  leave(reason: WorkerLeaveReason): void {
    const broker = this.#broker;
    if (broker === undefined) return;
    this.#broker = undefined;
    for (const link of this.#links.values()) link.close();
    this.#links.clear();
    broker.removeAllListeners();
    void broker.close();
    this.#owner.emit("worker-down", broker.tag, reason);
  }
}

/**
 * Runs the cluster's broker in the node:cluster primary: every worker that calls
 * `createWorkerAdapter()` becomes a node of it. A worker that exits leaves at once; one that stops
 * answering leaves after `heartbeatTimeout`. Fork the workers with `serialization: "advanced"`
 * (`cluster.setupPrimary`) so that binary payloads cross IPC without re-encoding; JSON channels
 * work too, with the messages v8-serialized.
 */
export function setupPrimary(opts: PrimaryOptions = {}): PrimaryHub {
  if (!cluster.isPrimary) throw new TuttiError("INVALID_OPTION", "setupPrimary() runs in the cluster's primary");
  const primary = new PrimaryHub(opts);
  const wire = (worker: Worker): void => {
    const connection = primary.connect({
      name: String(worker.id),
      advanced: cluster.settings.serialization === "advanced",
      send: (message) => {
        if (!worker.isConnected()) return false;
        // with a callback a failed send is reported there, not thrown or emitted
        worker.send(message as never, undefined, {}, () => undefined);
        return true;
      },
    });
    const onMessage = (message: unknown): void => {
      connection.receive(message);
    };
    worker.on("message", onMessage);
    const gone = (): void => {
      worker.off("message", onMessage);
      connection.close();
    };
    worker.once("exit", gone);
    worker.once("disconnect", gone);
  };
  for (const worker of Object.values(cluster.workers ?? {})) if (worker !== undefined) wire(worker);
  cluster.on("fork", wire);
  const close = primary.close.bind(primary);
  primary.close = () => {
    cluster.off("fork", wire);
    close();
  };
  return primary;
}
