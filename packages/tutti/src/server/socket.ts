import { EventEmitter } from "node:events";
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import type { AdapterSocket, BroadcastFlags, EncodedMessage, Room, SocketId } from "../adapter/adapter.js";
import type { EngineSession } from "../engine/engine-session.js";
import { TuttiError } from "../errors.js";
import { RESERVED_EVENTS, type SocketPacket, SocketPacketType } from "../protocol/socket-packet.js";
import type { AckOutcome } from "./ack-table.js";
import { BroadcastOperator } from "./broadcast-operator.js";
import type { Client } from "./client.js";
import type { Namespace } from "./namespace.js";
import type { PreparedPacket } from "./prepared-packet.js";
import { type SocketIoPacketOptions, writeSocketIoPacket } from "./sio-compat.js";
import type {
  AllButLast,
  DecorateAcknowledgements,
  DefaultEventsMap,
  DefaultSocketData,
  DisconnectReason,
  EventNames,
  EventNamesWithAck,
  EventParams,
  EventsMap,
  FirstNonErrorArg,
  Last,
  ListenerOf,
  SocketReservedEvents,
} from "./typed-events.js";

/** What the client sent when it connected (socket.io's `socket.handshake`). */
export interface Handshake {
  headers: IncomingHttpHeaders;
  /** The date of creation, as a string. */
  time: string;
  address: string;
  /** Whether the request came with an Origin header (cross-domain). */
  xdomain: boolean;
  /** Whether the connection is over TLS. */
  secure: boolean;
  /** The date of creation, in milliseconds since the epoch. */
  issued: number;
  url: string;
  query: Record<string, string | string[] | undefined>;
  /** The `auth` payload of the client's CONNECT packet. */
  auth: Record<string, unknown>;
}

/** An event as socket middleware sees it: `[eventName, ...args]`, with the ack function last if any. */
export type Event = [string | number, ...unknown[]];

export type SocketMiddleware = (event: Event, next: (err?: Error) => void) => void;

/**
 * A catch-all listener. The wire allows numeric event names, hence `string | number`; the
 * method-signature form makes TypeScript check the parameters bivariantly, so a listener
 * written for socket.io's `(...args: any[]) => void`, such as `(event: string, ...args) => {}`,
 * still fits.
 */
/** socket.io's per-socket ack map, as far as socket.io-adapter's `broadcastWithAck` uses it. */
interface AcksView {
  set(id: number, ack: (...args: unknown[]) => void): unknown;
}

type AnyListener = {
  bivariant(event: string | number, ...args: unknown[]): void;
}["bivariant"];

/** The flags of a plain emit, shared rather than allocated per socket and per emit. */
const NO_FLAGS: BroadcastFlags = Object.freeze({});

/** Decides whether a socket may join a room (a Tutti extension; see `Socket.joinPolicy`). */
export type JoinPolicy = (room: Room) => boolean;

enum State {
  Pending = 0,
  Connected = 1,
  Closed = 2,
}

function buildQuery(url: string): Record<string, string | string[] | undefined> {
  const mark = url.indexOf("?");
  // socket.io's form: a plain object, the last value of a repeated key winning. fromEntries
  // defines keys as own data properties, so "__proto__" is a key like any other.
  return mark === -1 ? {} : Object.fromEntries(new URLSearchParams(url.slice(mark + 1)));
}

/**
 * One client's connection to one namespace (socket.io's Socket). Several sockets, one per
 * namespace, share a client's connection.
 */
export class Socket<
    ListenEvents extends EventsMap = DefaultEventsMap,
    EmitEvents extends EventsMap = ListenEvents,
    ServerSideEvents extends EventsMap = DefaultEventsMap,
    SocketData = DefaultSocketData,
  >
  extends EventEmitter
  implements AdapterSocket
{
  /** The socket's id, distinct from the engine session id and from the socket's other namespaces. */
  readonly id: SocketId;
  readonly nsp: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
  readonly client: Client;
  #data: SocketData | undefined;
  /** Always false until connection-state recovery is built. */
  readonly recovered = false;
  /**
   * Tutti extension: when set, `join()` asks it about every room but the socket's own and
   * throws a `TuttiError` with code JOIN_NOT_ALLOWED when it answers false. The authorization
   * guard sets it from the socket's claims.
   */
  joinPolicy: JoinPolicy | undefined;

  #state: State = State.Pending;
  // Built on first use: most sockets never have catch-all listeners or a handshake read, and
  // each of these cost an idle connection memory. Pending acks live in the server's AckTable.
  #flags: BroadcastFlags = NO_FLAGS;
  #fns: SocketMiddleware[] | undefined;
  #anyListeners: CatchAllListeners | undefined;
  #acksView: AcksView | undefined;
  #anyOutgoingListeners: CatchAllListeners | undefined;
  #handshake: Handshake | undefined;
  readonly #issued: number;
  /** The CONNECT's auth payload; undefined when the client sent none (`{}` in the handshake). */
  readonly #auth: Record<string, unknown> | undefined;

  constructor(
    nsp: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    client: Client,
    id: SocketId,
    auth: Record<string, unknown> | undefined,
  ) {
    super();
    this.nsp = nsp;
    this.client = client;
    this.id = id;
    this.#issued = nsp.server.engine.opts.clock.date();
    this.#auth = auth;
  }

  /** Free-form data for the app, shared with `fetchSockets()` results. Created on first use. */
  get data(): SocketData {
    this.#data ??= {} as SocketData;
    return this.#data;
  }

  set data(value: SocketData) {
    this.#data = value;
  }

  /** What the client sent when it connected. */
  get handshake(): Handshake {
    if (this.#handshake !== undefined) return this.#handshake;
    const request = this.client.conn.request;
    const socket = request.socket as { encrypted?: unknown } | undefined;
    this.#handshake = {
      headers: request.headers,
      time: new Date(this.#issued).toString(),
      address: this.client.conn.remoteAddress,
      xdomain: !!request.headers.origin,
      secure: socket?.encrypted === true,
      issued: this.#issued,
      url: request.url ?? "",
      query: buildQuery(request.url ?? ""),
      auth: this.#auth ?? {},
    };
    return this.#handshake;
  }

  /** The engine session under this socket (socket.io's `socket.conn`). */
  get conn(): EngineSession {
    return this.client.conn;
  }

  /** The handshake HTTP request. */
  get request(): IncomingMessage {
    return this.client.conn.request;
  }

  get connected(): boolean {
    return this.#state === State.Connected;
  }

  get disconnected(): boolean {
    return this.#state !== State.Connected;
  }

  get adapter() {
    return this.nsp.adapter;
  }

  /** The rooms this socket is in, its own id among them. */
  get rooms(): Set<Room> {
    return this.nsp.adapter.socketRooms(this.id) ?? new Set();
  }

  /** Acks this socket still awaits from its client (emits with a callback not yet answered). */
  get pendingAcks(): number {
    return this.nsp.server.ackTable.pending(this.id);
  }

  // ---- listening ----

  override on<Ev extends EventNames<ListenEvents> | keyof SocketReservedEvents>(
    ev: Ev,
    listener: ListenerOf<SocketReservedEvents, ListenEvents, Ev>,
  ): this {
    return super.on(ev, listener);
  }

  override once<Ev extends EventNames<ListenEvents> | keyof SocketReservedEvents>(
    ev: Ev,
    listener: ListenerOf<SocketReservedEvents, ListenEvents, Ev>,
  ): this {
    return super.once(ev, listener);
  }

  override off<Ev extends EventNames<ListenEvents> | keyof SocketReservedEvents>(
    ev: Ev,
    listener: ListenerOf<SocketReservedEvents, ListenEvents, Ev>,
  ): this {
    return super.off(ev, listener);
  }

  /** Adds a listener called for every incoming event, before its own listeners. */
  onAny(listener: AnyListener): this {
    this.#anyListeners ??= new CatchAllListeners();
    this.#anyListeners.add(listener, false);
    return this;
  }

  prependAny(listener: AnyListener): this {
    this.#anyListeners ??= new CatchAllListeners();
    this.#anyListeners.add(listener, true);
    return this;
  }

  /** Removes one catch-all listener, or all of them. */
  offAny(listener?: AnyListener): this {
    this.#anyListeners?.remove(listener);
    return this;
  }

  listenersAny(): AnyListener[] {
    return this.#anyListeners?.snapshot() ?? [];
  }

  /** Adds a listener called for every outgoing event (acks excluded). */
  onAnyOutgoing(listener: AnyListener): this {
    this.#anyOutgoingListeners ??= new CatchAllListeners();
    this.#anyOutgoingListeners.add(listener, false);
    return this;
  }

  prependAnyOutgoing(listener: AnyListener): this {
    this.#anyOutgoingListeners ??= new CatchAllListeners();
    this.#anyOutgoingListeners.add(listener, true);
    return this;
  }

  offAnyOutgoing(listener?: AnyListener): this {
    this.#anyOutgoingListeners?.remove(listener);
    return this;
  }

  listenersAnyOutgoing(): AnyListener[] {
    return this.#anyOutgoingListeners?.snapshot() ?? [];
  }

  /** Adds a middleware run for every incoming event; an error it passes to `next` goes to the "error" event. */
  use(fn: SocketMiddleware): this {
    this.#fns ??= [];
    this.#fns.push(fn);
    return this;
  }

  // ---- emitting ----

  /**
   * Emits an event to this client. A function as last argument gets the client's ack; with
   * `timeout()` it gets `(err, ...answer)`. Past `maxPendingAcks` the event is not sent and the
   * function gets, on the next tick, the error a timeout gives (code ACK_LIMIT_EXCEEDED) as
   * its first argument. Throws for a reserved event name, as socket.io does.
   */
  override emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean {
    if (typeof ev === "string" && RESERVED_EVENTS.has(ev)) throw new Error(`"${ev}" is a reserved event name`);
    const flags = this.#flags;
    this.#flags = NO_FLAGS;
    const data: unknown[] = [ev, ...args];
    const last = data[data.length - 1];
    if (typeof last !== "function") {
      this.#notifyOutgoing(data);
      this.#packet({ type: SocketPacketType.EVENT, nsp: this.nsp.name, data }, flags);
      return true;
    }
    data.pop();
    const callback = last as (...args: unknown[]) => void;
    const withError = flags.timeout !== undefined;
    this.#emitExpectingAck(data, flags, (err, answer) => {
      if (err) callback.call(this, err);
      else if (withError) callback.call(this, null, ...answer);
      else callback.apply(this, answer as unknown[]);
    });
    return true;
  }

  /**
   * Emits an event and resolves with the client's ack. Rejects when `timeout()` runs out, and
   * at once past `maxPendingAcks` (code ACK_LIMIT_EXCEEDED).
   */
  emitWithAck<Ev extends EventNamesWithAck<EmitEvents>>(
    ev: Ev,
    ...args: AllButLast<EventParams<EmitEvents, Ev>>
  ): Promise<FirstNonErrorArg<Last<EventParams<EmitEvents, Ev>>>> {
    return new Promise((resolve, reject) => {
      // the Promise constructor turns the throw for a reserved name into a rejection
      if (typeof ev === "string" && RESERVED_EVENTS.has(ev)) throw new Error(`"${ev}" is a reserved event name`);
      const flags = this.#flags;
      this.#flags = NO_FLAGS;
      this.#emitExpectingAck([ev, ...args], flags, (err, answer) => {
        if (err) reject(err);
        else resolve(answer[0] as FirstNonErrorArg<Last<EventParams<EmitEvents, Ev>>>);
      });
    });
  }

  /** Sends `data` asking for an ack, through the server's ack table. */
  #emitExpectingAck(data: unknown[], flags: BroadcastFlags, outcome: AckOutcome): void {
    const acks = this.nsp.server.ackTable;
    let id: number | undefined;
    if (this.#state === State.Closed) {
      // no answer can come: the packet goes nowhere (the client left), and the outcome is a timeout's or none
      acks.lost(outcome, flags.timeout);
    } else {
      id = acks.expectOne(this.id, outcome, flags.timeout);
      if (id === undefined) return; // at the limit: the outcome gets the error, the client nothing
    }
    this.#notifyOutgoing(data);
    this.#packet({ type: SocketPacketType.EVENT, nsp: this.nsp.name, id, data }, flags);
  }

  /** Emits the "message" event. */
  send(...args: EventParams<EmitEvents, "message">): this {
    (this.emit as (ev: string, ...rest: unknown[]) => boolean)("message", ...args);
    return this;
  }

  /** Alias of `send`. */
  write(...args: EventParams<EmitEvents, "message">): this {
    return this.send(...args);
  }

  /** The next emit's ack waits at most `ms`, then gets an Error("operation has timed out"). */
  timeout(ms: number): Socket<ListenEvents, DecorateAcknowledgements<EmitEvents>, ServerSideEvents, SocketData> {
    this.#flags = { ...this.#flags, timeout: ms };
    return this as unknown as Socket<ListenEvents, DecorateAcknowledgements<EmitEvents>, ServerSideEvents, SocketData>;
  }

  /** The next emit is dropped if the client's transport cannot take it now. */
  get volatile(): this {
    this.#flags = { ...this.#flags, volatile: true };
    return this;
  }

  /** Whether the next emit may be compressed. */
  compress(compress: boolean): this {
    this.#flags = { ...this.#flags, compress };
    return this;
  }

  /** Broadcasts to every socket of the namespace but this one. */
  get broadcast(): BroadcastOperator<EmitEvents, SocketData> {
    return this.#operator();
  }

  /** Broadcasts to this node only. */
  get local(): BroadcastOperator<EmitEvents, SocketData> {
    return this.#operator().local;
  }

  /** Broadcasts to the sockets in `room` (or any of the rooms), this one excluded. */
  to(room: Room | readonly Room[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.#operator().to(room);
  }

  in(room: Room | readonly Room[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.to(room);
  }

  except(room: Room | readonly Room[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.#operator().except(room);
  }

  #operator(): BroadcastOperator<EmitEvents, SocketData> {
    const flags = this.#flags;
    this.#flags = NO_FLAGS;
    return new BroadcastOperator(this.nsp.adapter, new Set(), new Set([this.id]), flags, this.nsp.server.ackTable);
  }

  // ---- rooms ----

  /**
   * Joins one room or several. Throws a `TuttiError`, joining none of them, when `joinPolicy`
   * refuses one (JOIN_NOT_ALLOWED) or when the socket would be in more than
   * `maxRoomsPerSocket` rooms (ROOM_LIMIT_EXCEEDED).
   */
  join(rooms: Room | readonly Room[]): Promise<void> | void {
    if (this.#state === State.Closed) return;
    const list = typeof rooms === "string" ? [rooms] : rooms;
    const refusal = this.#joinRefusal(list);
    if (refusal !== undefined) throw refusal;
    return this.nsp.adapter.addAll(this.id, list);
  }

  /** Whether `join(room)` would succeed now. */
  canJoin(room: Room): boolean {
    return this.#joinRefusal([room]) === undefined;
  }

  /** Why joining `rooms` is refused, or undefined when it is allowed. */
  #joinRefusal(rooms: readonly Room[]): TuttiError | undefined {
    const policy = this.joinPolicy;
    const current = this.nsp.adapter.socketRooms(this.id);
    let added = 0;
    // a room listed twice is joined once
    const seen = rooms.length > 1 ? new Set<Room>() : undefined;
    for (const room of rooms) {
      if (room === this.id || current?.has(room) || seen?.has(room)) continue;
      seen?.add(room);
      if (policy !== undefined && !policy(room)) {
        return new TuttiError("JOIN_NOT_ALLOWED", `socket ${this.id} may not join room ${JSON.stringify(room)}`);
      }
      added++;
    }
    if (added === 0) return undefined;
    // the socket's own room is not counted
    const limit = this.nsp.server.options.maxRoomsPerSocket;
    const inRooms = (current?.size ?? 0) - (current?.has(this.id) ? 1 : 0);
    if (inRooms + added <= limit) return undefined;
    return new TuttiError("ROOM_LIMIT_EXCEEDED", `socket ${this.id} is in ${inRooms} rooms; the limit is ${limit}`);
  }

  leave(rooms: Room | readonly Room[]): Promise<void> | void {
    if (this.#state === State.Closed) return;
    if (typeof rooms === "string") return this.nsp.adapter.del(this.id, rooms);
    const pending: Promise<void>[] = [];
    for (const room of rooms) {
      const result = this.nsp.adapter.del(this.id, room);
      if (result instanceof Promise) pending.push(result);
    }
    if (pending.length > 0) return Promise.all(pending).then(() => undefined);
  }

  /**
   * Disconnects this socket. With `close`, the whole connection is closed, with the client's
   * other namespaces.
   */
  disconnect(close = false): this {
    if (this.#state !== State.Connected) return this;
    if (close) {
      this.client.disconnectAll();
      return this;
    }
    this.#packet({ type: SocketPacketType.DISCONNECT, nsp: this.nsp.name }, {});
    this.onClose("server namespace disconnect");
    return this;
  }

  /**
   * Tutti extension: disconnects this socket as `disconnect()` does (the client sees
   * "io server disconnect"), but its "disconnecting" and "disconnect" listeners get `reason`.
   * The guards use it for "token expired" and "rate limited".
   */
  disconnectFor(reason: DisconnectReason, description?: unknown): this {
    if (this.#state !== State.Connected) return this;
    this.#packet({ type: SocketPacketType.DISCONNECT, nsp: this.nsp.name }, {});
    this.onClose(reason, description);
    return this;
  }

  // ---- AdapterSocket ----

  deliver(message: EncodedMessage, flags: BroadcastFlags): void {
    this.#notifyOutgoing(message.data);
    this.client.writePrepared((message as PreparedPacket).parts, flags);
  }

  /** Returns false, registering nothing, when this socket is at `maxPendingAcks`: the adapter then does not deliver the packet. */
  expectAck(id: number, callback: (...args: unknown[]) => void): boolean {
    return this.nsp.server.ackTable.expect(this.id, id, callback);
  }

  /**
   * socket.io's per-socket ack map as socket.io-adapter's `broadcastWithAck` writes to it
   * (`socket.acks.set(id, ack)`): the ack goes into the server's ack table, under its limit and
   * with the broadcast's timeout. A socket at `maxPendingAcks` registers nothing; such an
   * adapter still writes it the packet, and its answer is then ignored.
   */
  get acks(): AcksView {
    // made on first use and kept: such an adapter reads it once per recipient of each broadcast
    this.#acksView ??= { set: (id, ack) => this.expectAck(id, ack) };
    return this.#acksView;
  }

  cancelAck(id: number): void {
    this.nsp.server.ackTable.cancel(this.id, id);
  }

  // ---- called by the client and the namespace ----

  /** The namespace accepted the socket: joins its own room and answers the CONNECT. */
  onConnect(): void {
    this.#state = State.Connected;
    this.join(this.id);
    this.#packet({ type: SocketPacketType.CONNECT, nsp: this.nsp.name, data: { sid: this.id } }, {});
  }

  /** The namespace refused the socket (a middleware error). */
  onRefused(): void {
    this.#state = State.Closed;
    this.nsp.adapter.delAll(this.id);
    this.nsp.server.ackTable.drop(this.id);
  }

  onPacket(packet: SocketPacket): void {
    switch (packet.type) {
      case SocketPacketType.EVENT:
        this.#onEvent(packet.data as unknown[], packet.id);
        break;
      case SocketPacketType.ACK:
        this.#onAck(packet.id as number, packet.data as unknown[]);
        break;
      case SocketPacketType.DISCONNECT:
        this.onClose("client namespace disconnect");
        break;
      default:
    }
  }

  onError(err: Error): void {
    if (this.listenerCount("error") > 0) super.emit("error", err);
  }

  /** Ends the socket: "disconnecting" (rooms still known), cleanup, then "disconnect". */
  onClose(reason: DisconnectReason, description?: unknown): void {
    if (this.#state !== State.Connected) return;
    super.emit("disconnecting", reason, description);
    this.#state = State.Closed;
    this.nsp.adapter.delAll(this.id);
    this.nsp.server.ackTable.drop(this.id);
    this.nsp.removeSocket(this);
    this.client.removeSocket(this);
    super.emit("disconnect", reason, description);
  }

  #onEvent(args: unknown[], id: number | undefined): void {
    // "error" is the server's own event on a socket (middleware failures, guard refusals): a
    // client may not raise it, or it could pose as a refusal to the app's error listeners.
    if (args[0] === "error") return;
    if (id !== undefined) args.push(this.#ackFunction(id));
    this.#anyListeners?.call(this, args);
    const fns = this.#fns;
    if (fns === undefined || fns.length === 0) {
      this.#dispatch(args);
      return;
    }
    const event = args as Event;
    let index = 0;
    const next = (err?: Error): void => {
      if (err) {
        this.onError(err);
        return;
      }
      const fn = fns[index++];
      if (fn === undefined) this.#dispatch(args);
      else fn(event, next);
    };
    next();
  }

  #dispatch(args: unknown[]): void {
    if (this.#state !== State.Connected) return;
    const name = args[0] as string | number;
    // An "error" event nobody listens to would throw inside EventEmitter: drop it instead.
    if (name === "error" && this.listenerCount("error") === 0) return;
    super.emit(name as string, ...args.slice(1));
  }

  #onAck(id: number, args: unknown[]): void {
    this.nsp.server.ackTable.answer(this.id, id, args);
  }

  #ackFunction(id: number): (...args: unknown[]) => void {
    let sent = false;
    return (...args: unknown[]) => {
      if (sent) return;
      sent = true;
      this.#packet({ type: SocketPacketType.ACK, nsp: this.nsp.name, id, data: args }, {});
    };
  }

  /**
   * Calls the `onAnyOutgoing` listeners for an event packet written by other means (socket.io's;
   * socket.io-adapter's broadcast calls it before `client.writeToEngine`).
   */
  notifyOutgoingListeners(packet: { readonly data?: unknown }): void {
    if (Array.isArray(packet.data)) this.#notifyOutgoing(packet.data);
  }

  /**
   * socket.io-adapter: socket.io's `socket.packet`, which socket.io-adapter before 2.5
   * (socket.io-redis 6) calls with a broadcast's encoded messages (sio-compat.ts).
   */
  packet(packet: SocketPacket | ReadonlyArray<string | Buffer>, opts?: SocketIoPacketOptions): void {
    writeSocketIoPacket(this.client, this.nsp.name, packet, opts);
  }

  #notifyOutgoing(data: readonly unknown[]): void {
    this.#anyOutgoingListeners?.call(this, data);
  }

  #packet(packet: SocketPacket, flags: BroadcastFlags): void {
    this.client.writePacket(packet, flags);
  }
}

/** The catch-all listeners of `onAny` or `onAnyOutgoing`; the list exists once one is added. */
class CatchAllListeners {
  #list: AnyListener[] | undefined;

  add(listener: AnyListener, prepend: boolean): void {
    this.#list ??= [];
    if (prepend) this.#list.unshift(listener);
    else this.#list.push(listener);
  }

  /** Removes `listener`, or every listener when none is given. */
  remove(listener: AnyListener | undefined): void {
    if (this.#list === undefined) return;
    if (listener === undefined) {
      this.#list = undefined;
      return;
    }
    const index = this.#list.indexOf(listener);
    if (index !== -1) this.#list.splice(index, 1);
  }

  snapshot(): AnyListener[] {
    return this.#list?.slice() ?? [];
  }

  /** Calls each listener with the event's name and arguments; one added meanwhile waits for the next event. */
  call(thisArg: unknown, args: readonly unknown[]): void {
    const list = this.#list;
    if (list === undefined || list.length === 0) return;
    for (const listener of list.slice()) listener.apply(thisArg, args as [string, ...unknown[]]);
  }
}
