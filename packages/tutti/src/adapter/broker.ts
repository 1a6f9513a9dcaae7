import type { EventEmitter } from "node:events";

/**
 * The version of the inter-node protocol this build speaks. A node announces it with its
 * heartbeat; a request is only expected to be answered by nodes whose version knows it.
 */
export const CLUSTER_PROTOCOL_VERSION = 1;

/** A live node of the cluster, as its heartbeat announces it. */
export interface NodeInfo {
  /** The node's tag: 6 base64url characters, unique among live nodes, the prefix of its session ids. */
  readonly tag: string;
  /** Its inter-node protocol version (`CLUSTER_PROTOCOL_VERSION` of its build). */
  readonly version: number;
  /** Where other nodes relay requests for its sessions ("host:port" or a Unix socket path); absent until it has a relay listener. */
  readonly address?: string | undefined;
}

/** A position in a namespace's one order of stored messages. `epoch` changes whenever history was lost. */
export interface Position {
  readonly epoch: string;
  readonly seq: number;
}

/**
 * A stored broadcast: an event to rooms (or the whole namespace when `rooms` is empty), not
 * volatile, not acked, not local. Values are plain data: strings, numbers, booleans, null,
 * arrays, plain objects and binary (Buffer or Uint8Array; a receiver gets Buffers back).
 */
export interface StoredMessage {
  readonly rooms: readonly string[];
  readonly except: readonly string[];
  /** The emit's `compress` flag (true unless `compress(false)`). */
  readonly compress: boolean;
  /** `[eventName, ...args]`. */
  readonly data: readonly unknown[];
}

/** A stored message as the feed delivers it, with its position. */
export interface FeedEntry extends StoredMessage, Position {}

/**
 * An ephemeral message between nodes (requests, responses, volatile or acked broadcasts): never
 * stored, no position. `t` names its type; the other fields are plain data as in `StoredMessage`.
 */
export interface NodeMessage {
  readonly t: string;
  readonly [field: string]: unknown;
}

/** What a namespace's adapter hands the broker: where the broker delivers what arrives for it. */
export interface NamespaceFeed {
  /**
   * A stored message published to a room this node subscribed, or to the whole namespace, by any
   * node, this one included. Called in position order, each position at most once per
   * subscription (a message to several subscribed rooms may come once per room: drop repeats by
   * `seq`).
   */
  onEntry(entry: FeedEntry): void;
  /** An ephemeral message from node `from` (never from this node). */
  onMessage(message: NodeMessage, from: string): void;
  /**
   * The feed had a gap: the broker lost its subscription for a while (Redis went away) and
   * messages published meanwhile may not have been delivered. `historyIntact` says whether the
   * stored history still holds them.
   */
  onFeedLost?(info: { readonly historyIntact: boolean }): void;
}

/** One namespace's link to the broker. */
export interface NamespaceLink {
  /**
   * Appends `message` to the history of each target room (of the namespace when `rooms` is empty)
   * and fans it out to the nodes subscribed to those rooms, atomically: position order is feed
   * order on every node, and the publisher gets its own message back through `onEntry` (deliver
   * local recipients from there, not from the promise). Messages published from one node are
   * positioned in the order `publish` was called. Rejects when the broker cannot take the
   * message (it is down and its bounded queue is full, or the link is closed): it was then
   * neither stored nor sent.
   */
  publish(message: StoredMessage): Promise<Position>;
  /**
   * Sends an ephemeral message to every other node subscribed to `room`, or, when `room` is
   * undefined, to every other node of the namespace. Order with this node's other messages of
   * the namespace is kept. Best effort: lost when the broker is down.
   */
  broadcast(message: NodeMessage, room?: string): void;
  /** Sends an ephemeral message to node `tag`'s adapter of this namespace. Best effort. */
  sendTo(tag: string, message: NodeMessage): void;
  /**
   * Starts delivering stored and ephemeral messages of `rooms` to this node. Resolves once every
   * message published after it resolves will be delivered. Subscribing twice is counted once;
   * `unsubscribe` undoes a subscription (a broker may linger before it drops the channel).
   * `subscribe([])` resolves once the namespace's own channels (room-less broadcasts, requests)
   * are live.
   */
  subscribe(rooms: readonly string[]): Promise<void>;
  unsubscribe(rooms: readonly string[]): void;
  /** Stops this namespace's feed. */
  close(): void;
}

export interface BrokerEvents {
  /** A node joined (it announced itself). */
  "node-up": [node: NodeInfo];
  /** A node left or was declared dead (no heartbeat within the timeout): stop waiting for it. */
  "node-down": [tag: string];
  /** A failure the broker could not hide: a dropped publish, a lost subscription. Never thrown. */
  error: [error: Error];
}

/**
 * Carries a cluster's messages between nodes: `@tutti/redis` on Redis, the node:cluster primary
 * over IPC, or an in-process hub in tests. One broker per node (per `Server`), shared by its
 * namespaces.
 *
 * Guarantees every broker keeps (the adapter contract test checks them):
 * - stored messages of a namespace have one order, the same on every node (`NamespaceLink.publish`);
 * - a node receives only what its subscribed rooms, its namespaces and its own tag are sent;
 * - a node that stops announcing itself is declared down within the broker's heartbeat timeout,
 *   and `members()` no longer lists it;
 * - a failure is reported through `error`, never thrown from a callback and never silent.
 */
export interface Broker extends EventEmitter<BrokerEvents> {
  /** This node's tag. */
  readonly tag: string;
  /** Resolves once this node is registered and its feeds can be subscribed. */
  ready(): Promise<void>;
  /** The live nodes, this one included, by tag. */
  members(): ReadonlyMap<string, NodeInfo>;
  /** The node `tag` if it is alive (asks the registry when the local view does not know it yet). */
  locate(tag: string): Promise<NodeInfo | undefined>;
  /** Announces this node's relay address. */
  setAddress(address: string): void;
  /** The key the nodes share to sign relayed requests. */
  secret(): Promise<Uint8Array>;
  /** Links namespace `name`; `feed` receives its messages. */
  namespace(name: string, feed: NamespaceFeed): NamespaceLink;
  /** Leaves the cluster (other nodes see `node-down` at once) and closes what the broker opened. */
  close(): Promise<void>;
}
