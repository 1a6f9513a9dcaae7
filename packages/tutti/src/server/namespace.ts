import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import type { Adapter, AdapterNamespace, Room, SocketId } from "../adapter/adapter.js";
import type { Clock } from "../clock.js";
import { SocketPacketType } from "../protocol/socket-packet.js";
import { BroadcastOperator, type RemoteSocket } from "./broadcast-operator.js";
import type { Client } from "./client.js";
import { PreparedPacket } from "./prepared-packet.js";
import type { Server } from "./server.js";
import { settle } from "./settle.js";
import { createNamespaceAdapter } from "./sio-compat.js";
import { Socket } from "./socket.js";
import type {
  AllButLast,
  DecorateAcknowledgementsWithMultipleResponses,
  DefaultEventsMap,
  DefaultSocketData,
  EventNames,
  EventNamesWithAck,
  EventParams,
  EventsMap,
  FirstNonErrorArg,
  Last,
  ListenerOf,
} from "./typed-events.js";

/** An error a connection middleware passes to `next`; `data` reaches the client's connect_error. */
export interface ExtendedError extends Error {
  data?: unknown;
}

export type NamespaceMiddleware<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  SocketData = DefaultSocketData,
> = (
  socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
  next: (err?: ExtendedError) => void,
) => void;

export interface NamespaceReservedEvents<
  ListenEvents extends EventsMap,
  EmitEvents extends EventsMap,
  ServerSideEvents extends EventsMap,
  SocketData,
> {
  connect: (socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void;
  connection: (socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void;
  /** Emitted on the main namespace (and so on the server) when a namespace is created. */
  new_namespace: (namespace: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void;
}

/** The namespace's own events: other nodes may not send them with serverSideEmit (socket.io's list). */
const NAMESPACE_RESERVED_EVENTS: ReadonlySet<string> = new Set(["connect", "connection", "new_namespace"]);

/** What a namespace (and the server) can listen to: its own events, and server-side events from other nodes. */
export type NamespaceEventNames<
  ListenEvents extends EventsMap,
  EmitEvents extends EventsMap,
  ServerSideEvents extends EventsMap,
  SocketData,
> =
  | keyof NamespaceReservedEvents<ListenEvents, EmitEvents, ServerSideEvents, SocketData>
  | EventNames<ServerSideEvents>;

/** The listener for event `Ev` of a namespace. */
export type NamespaceListener<
  ListenEvents extends EventsMap,
  EmitEvents extends EventsMap,
  ServerSideEvents extends EventsMap,
  SocketData,
  Ev,
> = ListenerOf<NamespaceReservedEvents<ListenEvents, EmitEvents, ServerSideEvents, SocketData>, ServerSideEvents, Ev>;

/**
 * A namespace: its sockets, its rooms (through the adapter), its middleware, and the broadcast
 * operators (socket.io's Namespace).
 */
export class Namespace<
    ListenEvents extends EventsMap = DefaultEventsMap,
    EmitEvents extends EventsMap = ListenEvents,
    ServerSideEvents extends EventsMap = DefaultEventsMap,
    SocketData = DefaultSocketData,
  >
  extends EventEmitter
  implements AdapterNamespace<Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>
{
  readonly name: string;
  readonly server: Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
  /** Connected sockets by id. */
  readonly sockets = new Map<SocketId, Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>();
  readonly adapter: Adapter<Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>;
  /** Called when the last socket leaves; set on dynamic children when `cleanupEmptyChildNamespaces` is on. */
  onEmpty: (() => void) | undefined;
  protected fns: NamespaceMiddleware<ListenEvents, EmitEvents, ServerSideEvents, SocketData>[] = [];
  /** Sockets whose middlewares are running. */
  #connecting = 0;

  constructor(server: Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>, name: string) {
    super();
    this.server = server;
    this.name = name;
    this.adapter = this.createAdapter();
    settle(() => this.adapter.init(), "init");
  }

  protected createAdapter(): Adapter<Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>> {
    // socket.io-adapter: one written for socket.io is checked and fitted (sio-compat.ts)
    return createNamespaceAdapter(this.server.adapterConstructor, this) as unknown as Adapter<
      Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>
    >;
  }

  // ---- listening ----

  override on<Ev extends NamespaceEventNames<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>(
    ev: Ev,
    listener: NamespaceListener<ListenEvents, EmitEvents, ServerSideEvents, SocketData, Ev>,
  ): this {
    return super.on(ev, listener as (...args: unknown[]) => void);
  }

  override once<Ev extends NamespaceEventNames<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>(
    ev: Ev,
    listener: NamespaceListener<ListenEvents, EmitEvents, ServerSideEvents, SocketData, Ev>,
  ): this {
    return super.once(ev, listener as (...args: unknown[]) => void);
  }

  /** Adds a middleware run for every socket that connects, before "connection". */
  use(fn: NamespaceMiddleware<ListenEvents, EmitEvents, ServerSideEvents, SocketData>): this {
    this.fns.push(fn);
    return this;
  }

  // ---- broadcasting ----

  #operator(): BroadcastOperator<EmitEvents, SocketData> {
    return new BroadcastOperator<EmitEvents, SocketData>(
      this.adapter as unknown as Adapter,
      undefined,
      undefined,
      undefined,
      this.server.ackTable,
    );
  }

  to(room: Room | readonly Room[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.#operator().to(room);
  }

  in(room: Room | readonly Room[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.#operator().in(room);
  }

  except(room: Room | readonly Room[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.#operator().except(room);
  }

  /** Emits to every socket of the namespace. */
  /** Emits to every socket of the namespace (listeners are called through `emitReserved`). */
  override emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean {
    return this.#operator().emit(ev, ...args);
  }

  emitWithAck<Ev extends EventNamesWithAck<EmitEvents>>(
    ev: Ev,
    ...args: AllButLast<EventParams<EmitEvents, Ev>>
  ): Promise<FirstNonErrorArg<Last<EventParams<EmitEvents, Ev>>>> {
    const operator = this.#operator() as unknown as {
      emitWithAck(ev: Ev, ...rest: unknown[]): Promise<FirstNonErrorArg<Last<EventParams<EmitEvents, Ev>>>>;
    };
    return operator.emitWithAck(ev, ...args);
  }

  /** Emits the "message" event to every socket. */
  send(...args: EventParams<EmitEvents, "message">): this {
    (this.emit as (ev: string, ...rest: unknown[]) => boolean)("message", ...args);
    return this;
  }

  write(...args: EventParams<EmitEvents, "message">): this {
    return this.send(...args);
  }

  compress(compress: boolean): BroadcastOperator<EmitEvents, SocketData> {
    return this.#operator().compress(compress);
  }

  get volatile(): BroadcastOperator<EmitEvents, SocketData> {
    return this.#operator().volatile;
  }

  get local(): BroadcastOperator<EmitEvents, SocketData> {
    return this.#operator().local;
  }

  timeout(ms: number): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData> {
    return this.#operator().timeout(ms);
  }

  allSockets(): Promise<Set<SocketId>> {
    return this.#operator().allSockets();
  }

  fetchSockets(): Promise<RemoteSocket<EmitEvents, SocketData>[]> {
    return this.#operator().fetchSockets();
  }

  socketsJoin(room: Room | readonly Room[]): void {
    this.#operator().socketsJoin(room);
  }

  socketsLeave(room: Room | readonly Room[]): void {
    this.#operator().socketsLeave(room);
  }

  disconnectSockets(close = false): void {
    this.#operator().disconnectSockets(close);
  }

  /**
   * Emits an event to the other nodes' namespaces of the same name. With the in-memory adapter
   * there are no other nodes: nothing is sent and an ack gets `(null, [])` at once.
   */
  serverSideEmit<Ev extends EventNames<ServerSideEvents>>(ev: Ev, ...args: EventParams<ServerSideEvents, Ev>): boolean {
    if (typeof ev === "string" && NAMESPACE_RESERVED_EVENTS.has(ev)) {
      throw new Error(`"${ev}" is a reserved event name`);
    }
    this.adapter.serverSideEmit([ev, ...args]);
    return true;
  }

  serverSideEmitWithAck<Ev extends EventNamesWithAck<ServerSideEvents>>(
    ev: Ev,
    ...args: AllButLast<EventParams<ServerSideEvents, Ev>>
  ): Promise<FirstNonErrorArg<Last<EventParams<ServerSideEvents, Ev>>>[]> {
    return new Promise((resolve, reject) => {
      const callback = (err: Error | null, responses: unknown[]): void => {
        if (err) reject(err);
        else resolve(responses as FirstNonErrorArg<Last<EventParams<ServerSideEvents, Ev>>>[]);
      };
      (this.serverSideEmit as (ev: unknown, ...rest: unknown[]) => boolean)(ev, ...args, callback);
    });
  }

  /** socket.io's name for `onServerSideEmit`, which socket.io-adapter's cluster adapters call. */
  _onServerSideEmit(args: readonly unknown[]): void {
    this.onServerSideEmit(args);
  }

  /**
   * socket.io's ack id counter, which socket.io-adapter's `broadcastWithAck` reads and bumps
   * (`nsp._ids++`): reading takes the next id from the server's ack table, so ids stay unique
   * across sockets and broadcasts; the write that follows has nothing left to do.
   */
  get _ids(): number {
    return this.nextAckId();
  }

  set _ids(_next: number) {
    // the read already moved the table's counter on
  }

  /** Delivers a serverSideEmit from another node to this namespace's listeners (used by cluster adapters). */
  onServerSideEmit(args: readonly unknown[]): void {
    const [ev, ...rest] = args;
    super.emit(ev as string, ...rest);
  }

  // ---- AdapterNamespace ----

  encode(data: readonly unknown[], id?: number): PreparedPacket {
    return new PreparedPacket(this.server, this.name, data, id);
  }

  nextAckId(): number {
    return this.server.ackTable.nextId();
  }

  /** The server's clock (the cluster adapter's request timers run on it). */
  get clock(): Clock {
    return this.server.ackTable.clock;
  }

  // ---- connecting sockets (called by the client) ----

  /**
   * Creates a socket for `client`, runs the middlewares, then connects it or answers
   * CONNECT_ERROR. `onConnect` runs before the "connection" listeners, so the client knows the
   * socket first.
   */
  add(
    client: Client,
    auth: Record<string, unknown> | undefined,
    onConnect: (socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void,
    onRefuse: () => void,
  ): void {
    const socket = new Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>(
      this,
      client,
      randomBytes(15).toString("base64url"),
      auth,
    );
    this.#connecting++;
    this.#runMiddlewares(socket, (err) => {
      this.#connecting--;
      if (client.conn.readyState !== "open" || err) {
        socket.onRefused();
        if (err) {
          const data = err.data === undefined ? { message: err.message } : { message: err.message, data: err.data };
          client.writePacket({ type: SocketPacketType.CONNECT_ERROR, nsp: this.name, data }, {});
        }
        onRefuse();
        this.#checkEmpty();
        return;
      }
      this.sockets.set(socket.id, socket);
      socket.onConnect();
      onConnect(socket);
      super.emit("connect", socket);
      super.emit("connection", socket);
    });
  }

  #runMiddlewares(
    socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    done: (err: ExtendedError | undefined) => void,
  ): void {
    const fns = this.fns.slice();
    let index = 0;
    let finished = false;
    const next = (err?: ExtendedError): void => {
      if (finished) return;
      const fn = err ? undefined : fns[index++];
      if (fn === undefined) {
        finished = true;
        // socket.io runs the outcome on the next tick, so listeners added in a middleware's caller are in place
        process.nextTick(done, err);
        return;
      }
      let called = false;
      try {
        fn(socket, (e) => {
          if (called) return;
          called = true;
          next(e);
        });
      } catch (thrown) {
        if (called) throw thrown;
        called = true;
        next(thrown instanceof Error ? thrown : new Error(String(thrown)));
      }
    };
    next();
  }

  /** Forgets a socket that disconnected. */
  removeSocket(socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>): void {
    this.sockets.delete(socket.id);
    this.#checkEmpty();
  }

  #checkEmpty(): void {
    if (this.sockets.size === 0 && this.#connecting === 0) this.onEmpty?.();
  }

  /** Calls this namespace's own listeners (`emit` broadcasts to clients instead). */
  emitReserved<Ev extends keyof NamespaceReservedEvents<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>(
    ev: Ev,
    ...args: Parameters<NamespaceReservedEvents<ListenEvents, EmitEvents, ServerSideEvents, SocketData>[Ev]>
  ): boolean {
    return super.emit(ev, ...args);
  }
}
