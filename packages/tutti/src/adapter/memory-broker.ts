import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import type {
  Broker,
  BrokerEvents,
  FeedEntry,
  NamespaceFeed,
  NamespaceLink,
  NodeInfo,
  NodeMessage,
  Position,
  StoredMessage,
} from "./broker.js";
import { CLUSTER_PROTOCOL_VERSION } from "./broker.js";

/** Copies a message as a wire would: no shared objects between nodes, binary back as Buffers. */
function copy<T>(value: T): T {
  return revive(structuredClone(value)) as T;
}

function revive(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = revive(value[i]);
    return value;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) record[key] = revive(record[key]);
  return record;
}

/** One namespace on the hub: its order, and who hosts which room. */
class HubNamespace {
  readonly epoch = randomBytes(6).toString("base64url").slice(0, 8);
  seq = 0;
  /** Node tag → its feed. */
  readonly feeds = new Map<string, NamespaceFeed>();
  /** Room → tag → subscription count. */
  readonly rooms = new Map<string, Map<string, number>>();
}

export interface MemoryNodeOptions {
  /** The node's tag; default: 6 random base64url characters. */
  tag?: string;
  /** The protocol version it announces (a test's stand-in for an older build). */
  version?: number;
}

/**
 * A cluster inside one process: each `connect()` is a node, with a `Broker` of its own. Messages
 * are copied as on a wire and delivered asynchronously, in one order. For tests and for
 * several `Server`s in one process; the node:cluster primary runs one for its workers.
 */
export class MemoryHub {
  readonly #nodes = new Map<string, MemoryBroker>();
  readonly #namespaces = new Map<string, HubNamespace>();
  readonly #secret = randomBytes(32);
  /** Deliveries in order: one queue, so that no message overtakes another. */
  readonly #queue: (() => void)[] = [];
  #draining = false;

  connect(opts: MemoryNodeOptions = {}): MemoryBroker {
    let tag = opts.tag ?? randomBytes(6).toString("base64url").slice(0, 6);
    while (opts.tag === undefined && this.#nodes.has(tag)) tag = randomBytes(6).toString("base64url").slice(0, 6);
    if (this.#nodes.has(tag)) throw new Error(`node tag ${tag} is taken`);
    const node = new MemoryBroker(this, { tag, version: opts.version ?? CLUSTER_PROTOCOL_VERSION });
    this.#nodes.set(tag, node);
    this.#post(() => {
      for (const other of this.#nodes.values()) if (other !== node) other.emit("node-up", node.info);
    });
    return node;
  }

  /** The live nodes. */
  members(): Map<string, NodeInfo> {
    const out = new Map<string, NodeInfo>();
    for (const [tag, node] of this.#nodes) out.set(tag, node.info);
    return out;
  }

  node(tag: string): MemoryBroker | undefined {
    return this.#nodes.get(tag);
  }

  get secret(): Uint8Array {
    return this.#secret;
  }

  /** Removes a node (it left, or died): the others see `node-down`. */
  remove(tag: string): void {
    if (!this.#nodes.delete(tag)) return;
    for (const nsp of this.#namespaces.values()) {
      nsp.feeds.delete(tag);
      for (const [room, tags] of nsp.rooms) {
        tags.delete(tag);
        if (tags.size === 0) nsp.rooms.delete(room);
      }
    }
    this.#post(() => {
      for (const other of this.#nodes.values()) other.emit("node-down", tag);
    });
  }

  namespace(name: string): HubNamespace {
    let nsp = this.#namespaces.get(name);
    if (nsp === undefined) {
      nsp = new HubNamespace();
      this.#namespaces.set(name, nsp);
    }
    return nsp;
  }

  publish(name: string, from: string, message: StoredMessage): Position {
    const nsp = this.namespace(name);
    nsp.seq++;
    const entry: FeedEntry = { ...copy(message), epoch: nsp.epoch, seq: nsp.seq };
    const targets = message.rooms.length === 0 ? new Set(nsp.feeds.keys()) : this.#hosts(nsp, message.rooms);
    targets.add(from);
    for (const tag of targets) {
      const feed = nsp.feeds.get(tag);
      if (feed !== undefined) this.#post(() => feed.onEntry(copy(entry)));
    }
    return { epoch: nsp.epoch, seq: nsp.seq };
  }

  send(name: string, from: string, message: NodeMessage, room: string | undefined, to?: string): void {
    const nsp = this.namespace(name);
    const targets =
      to !== undefined ? [to] : room === undefined ? [...nsp.feeds.keys()] : [...this.#hosts(nsp, [room])];
    let wire: NodeMessage;
    try {
      wire = copy(message);
    } catch (err) {
      this.#nodes.get(from)?.report(err);
      return;
    }
    for (const tag of targets) {
      if (tag === from) continue;
      const feed = nsp.feeds.get(tag);
      if (feed !== undefined) this.#post(() => feed.onMessage(copy(wire), from));
    }
  }

  #hosts(nsp: HubNamespace, rooms: readonly string[]): Set<string> {
    const out = new Set<string>();
    for (const room of rooms) for (const tag of nsp.rooms.get(room)?.keys() ?? []) out.add(tag);
    return out;
  }

  #post(task: () => void): void {
    this.#queue.push(task);
    if (this.#draining) return;
    this.#draining = true;
    queueMicrotask(() => this.#drain());
  }

  #drain(): void {
    // a task may post more: they run in this same pass, after the ones before them
    for (let i = 0; i < this.#queue.length; i++) {
      const task = this.#queue[i] as () => void;
      try {
        task();
      } catch (err) {
        // a listener's failure must not stop the other deliveries
        queueMicrotask(() => {
          throw err;
        });
      }
    }
    this.#queue.length = 0;
    this.#draining = false;
  }
}

/** One node of a `MemoryHub`. */
export class MemoryBroker extends EventEmitter<BrokerEvents> implements Broker {
  readonly #hub: MemoryHub;
  #info: NodeInfo;
  #closed = false;

  constructor(hub: MemoryHub, info: NodeInfo) {
    super();
    this.#hub = hub;
    this.#info = info;
  }

  get tag(): string {
    return this.#info.tag;
  }

  get info(): NodeInfo {
    return this.#info;
  }

  ready(): Promise<void> {
    return Promise.resolve();
  }

  members(): ReadonlyMap<string, NodeInfo> {
    return this.#hub.members();
  }

  locate(tag: string): Promise<NodeInfo | undefined> {
    return Promise.resolve(this.#hub.node(tag)?.info);
  }

  setAddress(address: string): void {
    this.#info = { ...this.#info, address };
  }

  secret(): Promise<Uint8Array> {
    return Promise.resolve(this.#hub.secret);
  }

  report(err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    if (this.listenerCount("error") > 0) this.emit("error", error);
  }

  namespace(name: string, feed: NamespaceFeed): NamespaceLink {
    const hub = this.#hub;
    const nsp = hub.namespace(name);
    const tag = this.tag;
    nsp.feeds.set(tag, feed);
    let open = true;
    const live = (): boolean => open && !this.#closed;
    return {
      publish: (message) => {
        if (!live()) return Promise.reject(new Error("the broker link is closed"));
        try {
          return Promise.resolve(hub.publish(name, tag, message));
        } catch (err) {
          return Promise.reject(err);
        }
      },
      broadcast: (message, room) => {
        if (live()) hub.send(name, tag, message, room);
      },
      sendTo: (to, message) => {
        if (live()) hub.send(name, tag, message, undefined, to);
      },
      subscribe: (rooms) => {
        if (!live()) return Promise.resolve();
        for (const room of rooms) {
          let tags = nsp.rooms.get(room);
          if (tags === undefined) {
            tags = new Map();
            nsp.rooms.set(room, tags);
          }
          tags.set(tag, (tags.get(tag) ?? 0) + 1);
        }
        return Promise.resolve();
      },
      unsubscribe: (rooms) => {
        for (const room of rooms) {
          const tags = nsp.rooms.get(room);
          const count = tags?.get(tag);
          if (tags === undefined || count === undefined) continue;
          if (count > 1) tags.set(tag, count - 1);
          else {
            tags.delete(tag);
            if (tags.size === 0) nsp.rooms.delete(room);
          }
        }
      },
      close: () => {
        open = false;
        if (nsp.feeds.get(tag) === feed) nsp.feeds.delete(tag);
      },
    };
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#hub.remove(this.tag);
    }
    return Promise.resolve();
  }
}
