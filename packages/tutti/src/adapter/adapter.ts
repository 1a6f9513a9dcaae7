import { EventEmitter } from "node:events";

export type SocketId = string;
export type Room = string;

/** Modifiers of one emit, set through the operators (`volatile`, `compress`, `local`, `timeout`). */
export interface BroadcastFlags {
  /** Drop the packet for a recipient whose transport cannot write it now. */
  readonly volatile?: boolean;
  /** Allow compression (default true). */
  readonly compress?: boolean;
  /** Deliver on this node only, even with a cluster adapter. */
  readonly local?: boolean;
  /** Milliseconds to wait for acks. */
  readonly timeout?: number;
  /** The ack reports one response, not an array (a RemoteSocket's emit). */
  readonly expectSingleResponse?: boolean;
}

/** Who a broadcast reaches: sockets in any of `rooms` (every socket when empty), minus those in `except`. */
export interface BroadcastOptions {
  readonly rooms: ReadonlySet<Room>;
  readonly except?: ReadonlySet<Room> | undefined;
  readonly flags?: BroadcastFlags | undefined;
}

/** The event packet an adapter is asked to deliver: `[eventName, ...args]`. */
export interface BroadcastPacket {
  /**
   * Socket.IO's EVENT type, as socket.io hands its adapters the packet: adapters built on
   * socket.io-adapter encode it themselves with `io.encoder`.
   */
  readonly type?: 2;
  readonly data: readonly unknown[];
}

/**
 * A packet encoded once by the namespace for all its recipients. Opaque to adapters: they pass
 * it from `AdapterNamespace.encode` to `AdapterSocket.deliver` untouched.
 */
export interface EncodedMessage {
  readonly data: readonly unknown[];
  readonly id: number | undefined;
}

/** What an adapter sees of a socket on this node. */
export interface AdapterSocket {
  readonly id: SocketId;
  /** Queues an encoded packet on the socket's connection, honouring `volatile` and `compress`. */
  deliver(message: EncodedMessage, flags: BroadcastFlags): void;
  /**
   * Calls `callback` with the client's ack for packet `id`; returns false, registering nothing,
   * when this socket cannot await it (at its limit): the packet is then not delivered to it.
   */
  expectAck(id: number, callback: (...args: unknown[]) => void): boolean;
  /** Forgets the ack for packet `id` (the wait timed out). */
  cancelAck(id: number): void;
  disconnect(close?: boolean): unknown;
}

/** What an adapter sees of its namespace. */
export interface AdapterNamespace<S extends AdapterSocket = AdapterSocket> {
  readonly name: string;
  readonly sockets: ReadonlyMap<SocketId, S>;
  /** Encodes an event once; `id` asks recipients for an ack. */
  encode(data: readonly unknown[], id?: number): EncodedMessage;
  /** A fresh ack id, unique within the namespace. */
  nextAckId(): number;
}

export interface AdapterEvents {
  "create-room": [room: Room];
  "delete-room": [room: Room];
  "join-room": [room: Room, id: SocketId];
  "leave-room": [room: Room, id: SocketId];
  /** A cluster adapter's failure it could not hide (a broadcast the broker refused): never thrown. */
  error: [error: Error];
}

/** The constructor a server takes as its `adapter` option. */
export type AdapterConstructor = new (nsp: AdapterNamespace) => Adapter;

/**
 * The in-memory adapter, and the contract every adapter keeps (socket.io-adapter's names and
 * events). It indexes rooms and delivers to the sockets of this node. A cluster adapter extends
 * it and only moves messages between nodes: local delivery stays here.
 *
 * Guarantees: a broadcast reaches each matching socket at most once, in the order the
 * broadcasts were made; room events fire synchronously with the change that causes them.
 */
export class Adapter<S extends AdapterSocket = AdapterSocket> extends EventEmitter<AdapterEvents> {
  readonly nsp: AdapterNamespace<S>;
  /** Room → its sockets. A room exists while it has at least one socket. */
  readonly rooms = new Map<Room, Set<SocketId>>();
  /** Socket → its rooms. */
  readonly sids = new Map<SocketId, Set<Room>>();

  constructor(nsp: AdapterNamespace<S>) {
    super();
    this.nsp = nsp;
  }

  /** Called once when the namespace is created. */
  init(): Promise<void> | void {}

  /** Called when the server closes. */
  close(): Promise<void> | void {}

  /** Number of nodes in the cluster, this one included. */
  serverCount(): Promise<number> {
    return Promise.resolve(1);
  }

  addAll(id: SocketId, rooms: Iterable<Room>): Promise<void> | void {
    let own = this.sids.get(id);
    if (own === undefined) {
      own = new Set();
      this.sids.set(id, own);
    }
    for (const room of rooms) {
      own.add(room);
      let members = this.rooms.get(room);
      if (members === undefined) {
        members = new Set();
        this.rooms.set(room, members);
        this.emit("create-room", room);
      }
      if (!members.has(id)) {
        members.add(id);
        this.emit("join-room", room, id);
      }
    }
  }

  del(id: SocketId, room: Room): Promise<void> | void {
    this.sids.get(id)?.delete(room);
    this.#leave(room, id);
  }

  delAll(id: SocketId): void {
    const own = this.sids.get(id);
    if (own === undefined) return;
    this.sids.delete(id);
    for (const room of own) this.#leave(room, id);
  }

  #leave(room: Room, id: SocketId): void {
    const members = this.rooms.get(room);
    if (members === undefined) return;
    if (members.delete(id)) this.emit("leave-room", room, id);
    if (members.size === 0 && this.rooms.delete(room)) this.emit("delete-room", room);
  }

  /** Delivers an event to every matching socket, encoded once for all of them. */
  broadcast(packet: BroadcastPacket, opts: BroadcastOptions): void {
    const flags = opts.flags ?? {};
    const message = this.nsp.encode(packet.data);
    this.apply(opts, (socket) => socket.deliver(message, flags));
  }

  /**
   * Like `broadcast`, asking each recipient for an ack. `clientCountCallback` gets the number of
   * sockets reached on this node; `ack` gets each socket's response. Returns a function that
   * forgets the acks still awaited (the caller's timeout ran out).
   */
  broadcastWithAck(
    packet: BroadcastPacket,
    opts: BroadcastOptions,
    clientCountCallback: (clientCount: number) => void,
    ack: (response: unknown) => void,
  ): () => void {
    const flags = opts.flags ?? {};
    const id = this.nsp.nextAckId();
    const message = this.nsp.encode(packet.data, id);
    const recipients: S[] = [];
    this.apply(opts, (socket) => {
      recipients.push(socket);
      // called with the client's ack arguments; the first is the response. A socket that cannot
      // await it (at its limit) is not sent the packet.
      if (socket.expectAck(id, ack)) socket.deliver(message, flags);
    });
    clientCountCallback(recipients.length);
    return () => {
      for (const socket of recipients) socket.cancelAck(id);
    };
  }

  /** Ids of the sockets in any of `rooms`, or of every socket when `rooms` is empty. */
  sockets(rooms: ReadonlySet<Room>): Promise<Set<SocketId>> {
    const ids = new Set<SocketId>();
    this.apply({ rooms }, (socket) => ids.add(socket.id));
    return Promise.resolve(ids);
  }

  /** The rooms of a socket, or `undefined` for a socket this adapter does not know. */
  socketRooms(id: SocketId): Set<Room> | undefined {
    return this.sids.get(id);
  }

  fetchSockets(opts: BroadcastOptions): Promise<S[]> {
    const out: S[] = [];
    this.apply(opts, (socket) => out.push(socket));
    return Promise.resolve(out);
  }

  addSockets(opts: BroadcastOptions, rooms: readonly Room[]): void {
    this.apply(opts, (socket) => this.addAll(socket.id, rooms));
  }

  delSockets(opts: BroadcastOptions, rooms: readonly Room[]): void {
    this.apply(opts, (socket) => {
      for (const room of rooms) this.del(socket.id, room);
    });
  }

  disconnectSockets(opts: BroadcastOptions, close: boolean): void {
    const matched: S[] = [];
    // collect first: disconnecting changes the rooms being walked
    this.apply(opts, (socket) => matched.push(socket));
    for (const socket of matched) socket.disconnect(close);
  }

  /**
   * Sends an event to the other nodes of the cluster. This adapter has no other nodes: nothing
   * is sent, and an ack (a function as last element) is answered at once with no responses.
   */
  serverSideEmit(packet: readonly unknown[]): void {
    const last = packet[packet.length - 1];
    if (typeof last === "function") (last as (err: Error | null, responses: unknown[]) => void)(null, []);
  }

  /** Calls `callback` for each matching socket of this node, once per socket. */
  apply(opts: BroadcastOptions, callback: (socket: S) => void): void {
    const except = this.#exceptIds(opts.except);
    const sockets = this.nsp.sockets;
    if (opts.rooms.size === 1) {
      // one room: its members are distinct already
      for (const room of opts.rooms) {
        const members = this.rooms.get(room);
        if (members === undefined) return;
        for (const id of members) {
          if (except?.has(id)) continue;
          const socket = sockets.get(id);
          if (socket !== undefined) callback(socket);
        }
      }
      return;
    }
    if (opts.rooms.size > 1) {
      const seen = new Set<SocketId>();
      for (const room of opts.rooms) {
        const members = this.rooms.get(room);
        if (members === undefined) continue;
        for (const id of members) {
          if (seen.has(id) || except?.has(id)) continue;
          const socket = sockets.get(id);
          if (socket === undefined) continue;
          seen.add(id);
          callback(socket);
        }
      }
      return;
    }
    for (const id of this.sids.keys()) {
      if (except?.has(id)) continue;
      const socket = sockets.get(id);
      if (socket !== undefined) callback(socket);
    }
  }

  #exceptIds(except: ReadonlySet<Room> | undefined): Set<SocketId> | undefined {
    if (except === undefined || except.size === 0) return undefined;
    const ids = new Set<SocketId>();
    for (const room of except) {
      const members = this.rooms.get(room);
      if (members !== undefined) for (const id of members) ids.add(id);
    }
    return ids;
  }
}
