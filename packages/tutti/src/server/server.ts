import { createServer, type Server as HttpServer } from "node:http";
import type { Http2SecureServer, Http2Server } from "node:http2";
import type { Server as HttpsServer } from "node:https";
import { Adapter, type AdapterConstructor, type Room, type SocketId } from "../adapter/adapter.js";
import type { Broker } from "../adapter/broker.js";
import { systemClock } from "../clock.js";
import { EngineServer } from "../engine/engine-server.js";
import type { EngineSession } from "../engine/engine-session.js";
import { LISTEN_BACKLOG } from "../engine/listen-backlog.js";
import type { EngineOptions } from "../engine/options.js";
import { type ConnectErrorMessage, ConnectErrorMessages, TuttiError } from "../errors.js";
import { DEFAULT_MAX_ARGUMENTS, DEFAULT_MAX_ATTACHMENTS, DEFAULT_MAX_DEPTH } from "../protocol/socket-packet.js";
import { AckTable } from "./ack-table.js";
import type { BroadcastOperator, RemoteSocket } from "./broadcast-operator.js";
import { Client } from "./client.js";
import { warnIgnoredOptions } from "./ignored-options.js";
import {
  Namespace,
  type NamespaceEventNames,
  type NamespaceListener,
  type NamespaceMiddleware,
  type NamespaceReservedEvents,
} from "./namespace.js";
import { type NamespaceMatcher, ParentNamespace } from "./parent-namespace.js";
import type { Parser, ParserEncoder } from "./parser.js";
import { ClientFileServer } from "./serve-client.js";
import { settle } from "./settle.js";
import { createNamespaceAdapter } from "./sio-compat.js";
import { tuttiParser } from "./tutti-parser.js";
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
} from "./typed-events.js";

/** The broker of a cluster adapter class (`createClusterAdapter`, `@tutti/redis`'s `createAdapter`). */
function brokerOf(ctor: unknown): Broker | undefined {
  const broker = (ctor as { broker?: Broker } | undefined)?.broker;
  return broker !== undefined && typeof broker === "object" && typeof broker.namespace === "function"
    ? broker
    : undefined;
}

/**
 * An adapter written for socket.io: a class on socket.io-adapter's `Adapter`, or the factory
 * that @socket.io/redis-adapter's `createAdapter` returns (a plain function, called with `new`
 * as socket.io calls it). Its types are socket.io's, so it is taken on trust here.
 */
type SocketIoAdapterConstructor = (new (nsp: never) => object) | ((nsp: never) => object);

export interface ServerOptions extends EngineOptions {
  /** Serve the socket.io-client bundle at `<path>socket.io.js` when `socket.io-client` is installed. Default true. */
  serveClient?: boolean;
  /** The adapter class each namespace gets, or one written for socket.io. Default: the in-memory `Adapter`. */
  adapter?: AdapterConstructor | SocketIoAdapterConstructor;
  /** Milliseconds a client has to connect to a namespace before its connection is closed. Default 45000. */
  connectTimeout?: number;
  /** Delete a dynamic namespace's child when its last socket leaves. Default false. */
  cleanupEmptyChildNamespaces?: boolean;
  /** Most binary attachments a client packet may carry. Default 10, as socket.io-parser. */
  maxAttachments?: number;
  /**
   * Most arguments a client's event or ack may carry; more closes the connection with "parse
   * error". Default 1000 (V8 cannot spread much past 60,000 into a handler call).
   */
  maxArguments?: number;
  /**
   * Deepest nesting of arrays and objects in a client's payload; deeper closes the connection
   * with "parse error". Default 512 (echoing a payload thousands of levels deep overflows the stack).
   */
  maxDepth?: number;
  /**
   * Most rooms one socket may be in, its own room not counted. `join()` past it throws a
   * `TuttiError` with code ROOM_LIMIT_EXCEEDED and joins none of the rooms. Default 1000.
   */
  maxRoomsPerSocket?: number;
  /**
   * Most acks one socket may await from its client at once, its own emits and broadcasts
   * together. An emit with an ack past it is not sent to that socket, and its callback gets at
   * once the error a timeout gives ("operation has timed out"), a `TuttiError` with code
   * ACK_LIMIT_EXCEEDED (`emitWithAck` rejects with it). Default 1000.
   */
  maxPendingAcks?: number;
  /**
   * Most children that dynamic namespaces (`io.of(regex or function)`) may have at once, all
   * parents together. A CONNECT that would create one more gets CONNECT_ERROR
   * "Namespace limit reached". Default 1000.
   */
  maxDynamicNamespaces?: number;
  /**
   * The codec between packets and Engine.IO messages, `{ Encoder, Decoder }` as socket.io takes
   * it (socket.io-msgpack-parser, socket.io-json-parser, your own); clients must use the same.
   * Default: Tutti's own, socket.io-parser's format. See `Parser` for what a custom decoder's
   * packets are checked for.
   */
  parser?: Parser;
  /** Accepted from socket.io's options and not acted on yet (a warning at startup says so). */
  connectionStateRecovery?: { maxDisconnectionDuration?: number; skipMiddlewares?: boolean } | false;
  /** Accepted from engine.io's options and not acted on: WebSockets run on `ws` (a warning says so). */
  wsEngine?: unknown;
  /** Accepted from engine.io's options and not acted on (a warning says so). */
  initialPacket?: unknown;
  /** Accepted from engine.io's options; `true` is not acted on, v3 clients are refused (a warning says so). */
  allowEIO3?: boolean;
}

/** Socket.IO-level options after defaults. */
export interface ResolvedServerOptions {
  readonly connectTimeout: number;
  readonly maxAttachments: number;
  readonly maxArguments: number;
  readonly maxDepth: number;
  readonly cleanupEmptyChildNamespaces: boolean;
  readonly maxRoomsPerSocket: number;
  readonly maxPendingAcks: number;
  readonly maxDynamicNamespaces: number;
  /** The codec: the app's `parser`, or Tutti's own. */
  readonly parser: Parser;
  /**
   * Whether `parser` is the app's. The server then checks each packet its decoder emits (shape,
   * `maxArguments`, `maxDepth`; Tutti's own checks them as it parses) and hands its encoder
   * packets without undefined keys, as socket.io does.
   */
  readonly customParser: boolean;
}

type AttachTarget = HttpServer | HttpsServer | Http2SecureServer | Http2Server;

function isAttachTarget(value: unknown): value is AttachTarget {
  return typeof value === "object" && value !== null && typeof (value as { listen?: unknown }).listen === "function";
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1)
    throw new TuttiError("INVALID_OPTION", `${name} must be a positive integer`);
  return value;
}

/** A limit: a positive integer, or Infinity to lift it. */
function limit(name: string, value: number | undefined, fallback: number): number {
  if (value === Number.POSITIVE_INFINITY) return value;
  return positiveInteger(name, value, fallback);
}

/** RegExp.test without the state a global or sticky RegExp keeps between calls. */
function testRegExp(regExp: RegExp, name: string): boolean {
  regExp.lastIndex = 0;
  return regExp.test(name);
}

const ENGINE_ONLY_KEYS = [
  "serveClient",
  "adapter",
  "connectTimeout",
  "cleanupEmptyChildNamespaces",
  "maxAttachments",
  "maxArguments",
  "maxDepth",
  "maxRoomsPerSocket",
  "maxPendingAcks",
  "maxDynamicNamespaces",
  "parser",
  "connectionStateRecovery",
];

/** The app's parser, checked for the shape socket.io takes; or Tutti's own, with the limits. */
function resolveParser(
  parser: Parser | undefined,
  limits: { maxAttachments: number; maxArguments: number; maxDepth: number },
): Parser {
  if (parser === undefined) return tuttiParser(limits);
  if (
    typeof parser !== "object" ||
    parser === null ||
    typeof parser.Encoder !== "function" ||
    typeof parser.Decoder !== "function"
  ) {
    throw new TuttiError("INVALID_OPTION", "parser must be an object with Encoder and Decoder constructors");
  }
  return parser;
}

/**
 * A Socket.IO server (socket.io 4.8's `Server`): namespaces, rooms, acks and broadcasts over
 * Tutti's Engine.IO server. Listener methods (`on`, `once`, `off`, ...) act on the main
 * namespace, as in socket.io.
 */
export class Server<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  SocketData = DefaultSocketData,
> {
  /** The main namespace, "/". */
  readonly sockets: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
  /** The Engine.IO server, set once attached. */
  engine!: EngineServer;
  /** The server attached to; declared always set, as socket.io does, so apps read it without a check. */
  httpServer!: AttachTarget;
  readonly options: ResolvedServerOptions;
  /** Every ack the server awaits from its clients: ids, the per-socket limit, timeouts, cancellation. */
  readonly ackTable: AckTable;
  /** The parser's one encoder, shared by every connection and broadcast (socket.io's `io.encoder`). */
  readonly encoder: ParserEncoder;
  readonly #nsps = new Map<string, Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>();
  readonly #regExpParents = new Map<RegExp, ParentNamespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>();
  readonly #parents = new Map<
    NamespaceMatcher,
    ParentNamespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>
  >();
  #engineOptions: EngineOptions;
  #adapter: AdapterConstructor;
  #serveClient: boolean;
  #path: string;
  #closed = false;
  /** Children of dynamic namespaces alive now, bounded by `maxDynamicNamespaces`. */
  #dynamicChildren = 0;
  /** Ignored options already warned about, so each gets one warning per server. */
  readonly #warned = new Set<string>();

  constructor(opts?: Partial<ServerOptions>);
  constructor(srv: AttachTarget | number | string | undefined, opts?: Partial<ServerOptions>);
  constructor(srv?: AttachTarget | number | string | Partial<ServerOptions>, opts: Partial<ServerOptions> = {}) {
    if (typeof srv === "object" && srv !== null && !isAttachTarget(srv)) {
      opts = srv;
      srv = undefined;
    }
    const limits = {
      maxAttachments: limit("maxAttachments", opts.maxAttachments, DEFAULT_MAX_ATTACHMENTS),
      maxArguments: limit("maxArguments", opts.maxArguments, DEFAULT_MAX_ARGUMENTS),
      maxDepth: limit("maxDepth", opts.maxDepth, DEFAULT_MAX_DEPTH),
    };
    const parser = resolveParser(opts.parser, limits);
    this.options = {
      connectTimeout: positiveInteger("connectTimeout", opts.connectTimeout, 45_000),
      ...limits,
      cleanupEmptyChildNamespaces: opts.cleanupEmptyChildNamespaces === true,
      maxRoomsPerSocket: limit("maxRoomsPerSocket", opts.maxRoomsPerSocket, 1000),
      maxPendingAcks: limit("maxPendingAcks", opts.maxPendingAcks, 1000),
      maxDynamicNamespaces: limit("maxDynamicNamespaces", opts.maxDynamicNamespaces, 1000),
      parser,
      customParser: opts.parser !== undefined,
    };
    this.encoder = new parser.Encoder();
    warnIgnoredOptions(opts, this.#warned);
    this.#adapter = (opts.adapter ?? Adapter) as AdapterConstructor;
    this.#serveClient = opts.serveClient !== false;
    this.#path = (opts.path ?? "/socket.io").replace(/\/$/, "");
    this.#engineOptions = opts;
    this.ackTable = new AckTable(
      this.options.maxPendingAcks,
      () => (this.engine as EngineServer | undefined)?.opts.clock ?? this.#engineOptions.clock ?? systemClock,
    );
    this.sockets = this.of("/");
    if (srv !== undefined) this.attach(srv as AttachTarget | number | string);
  }

  /**
   * socket.io's `io.opts`, read by adapters built on socket.io-adapter: its ClusterAdapter
   * checks `connectionStateRecovery` before tagging packets with offsets. Tutti does no
   * recovery, so it is never set here (the option is accepted and ignored).
   */
  get opts(): ResolvedServerOptions {
    return this.options;
  }

  /** The adapter class given to new namespaces. */
  get adapterConstructor(): AdapterConstructor {
    return this.#adapter;
  }

  // ---- configuration, socket.io's getter/setter methods ----

  serveClient(): boolean;
  serveClient(v: boolean): this;
  serveClient(v?: boolean): this | boolean {
    if (v === undefined) return this.#serveClient;
    this.#serveClient = v;
    return this;
  }

  path(): string;
  path(v: string): this;
  path(v?: string): this | string {
    if (v === undefined) return this.#path;
    this.#path = v.replace(/\/$/, "");
    return this;
  }

  connectTimeout(): number;
  connectTimeout(v: number): this;
  connectTimeout(v?: number): this | number {
    if (v === undefined) return this.options.connectTimeout;
    (this.options as { connectTimeout: number }).connectTimeout = positiveInteger("connectTimeout", v, 45_000);
    return this;
  }

  adapter(): AdapterConstructor;
  adapter(v: AdapterConstructor | SocketIoAdapterConstructor): this;
  adapter(v?: AdapterConstructor | SocketIoAdapterConstructor): this | AdapterConstructor {
    if (v === undefined) return this.#adapter;
    const ctor = v as AdapterConstructor;
    // socket.io-adapter: each namespace's adapter is made, and checked (sio-compat.ts), before
    // any is replaced, so a refused adapter leaves the server as it was
    const made = [...this.#nsps.values()].map((nsp) => ({ nsp, adapter: createNamespaceAdapter(ctor, nsp) }));
    this.#adapter = ctor;
    this.#joinCluster();
    for (const { nsp, adapter } of made) {
      (nsp as { adapter: unknown }).adapter = adapter;
      settle(() => adapter.init(), "init");
    }
    return this;
  }

  /** With a cluster adapter, the engine serves every node's sessions through the adapter's broker. */
  #joinCluster(): void {
    const broker = brokerOf(this.#adapter);
    const engine = this.engine as EngineServer | undefined;
    if (broker === undefined || engine === undefined) return;
    if (engine.cluster === broker) return;
    // the relay's address is announced once it listens; a failure to listen is the engine's to report
    engine.joinCluster(broker);
  }

  // ---- attaching ----

  /**
   * Attaches to an HTTP(S) server, or creates one listening on `port`; a port may come as a
   * string of digits (`io.listen(process.env.PORT)`), as socket.io takes it.
   */
  attach(srv: AttachTarget | number | string, opts: Partial<ServerOptions> = {}): this {
    // after close(), a server may be attached again (socket.io's `io.close(() => io.listen(port))`)
    if (this.engine !== undefined && !this.#closed)
      throw new TuttiError("INVALID_OPTION", "server is already attached");
    const port = typeof srv === "string" && /^\d+$/.test(srv) ? Number(srv) : srv;
    if (typeof port === "string") throw new TuttiError("INVALID_OPTION", `not a port: "${port}"`);
    this.#closed = false;
    warnIgnoredOptions(opts, this.#warned);
    let target: AttachTarget;
    if (typeof port === "number") {
      target = createServer();
      target.listen({ port, backlog: LISTEN_BACKLOG });
    } else target = port;
    this.httpServer = target;
    const merged: EngineOptions = { ...this.#engineOptions, ...opts, path: `${this.#path}/` };
    for (const key of ENGINE_ONLY_KEYS) delete (merged as Record<string, unknown>)[key];
    const engine = new EngineServer(merged);
    engine.attach(target as HttpServer);
    if (this.#serveClient) new ClientFileServer(`${this.#path}/`, engine.opts.cors).attach(target as HttpServer);
    this.bind(engine);
    this.#joinCluster();
    return this;
  }

  /** Same as `attach`. */
  listen(srv: AttachTarget | number | string, opts: Partial<ServerOptions> = {}): this {
    return this.attach(srv, opts);
  }

  /** Uses an Engine.IO server created elsewhere. */
  bind(engine: EngineServer): this {
    this.engine = engine;
    engine.on("connection", (conn: EngineSession) => {
      new Client(this, conn);
    });
    return this;
  }

  // ---- namespaces ----

  /**
   * The namespace `name`, created on first use. With a RegExp or a function, a dynamic
   * namespace: a parent whose children are created as clients connect to matching names.
   */
  of(
    name: string | RegExp | NamespaceMatcher,
    fn?: (
      socket: Parameters<
        NamespaceReservedEvents<ListenEvents, EmitEvents, ServerSideEvents, SocketData>["connection"]
      >[0],
    ) => void,
  ): Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
    if (typeof name === "function" || name instanceof RegExp) {
      const parent = new ParentNamespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>(this);
      const matcher: NamespaceMatcher =
        typeof name === "function" ? name : (nsp, _auth, next) => next(null, testRegExp(name, nsp));
      this.#parents.set(matcher, parent);
      if (name instanceof RegExp) this.#regExpParents.set(name, parent);
      if (fn) parent.on("connect", fn);
      return parent;
    }
    const full = name.startsWith("/") ? name : `/${name}`;
    let nsp = this.#nsps.get(full);
    if (nsp === undefined) {
      // a name a RegExp namespace matches is its child, with its middlewares (as socket.io does)
      for (const [regExp, parent] of this.#regExpParents) {
        if (testRegExp(regExp, full)) {
          const child = this.#createChild(parent, full);
          if (fn) child.on("connect", fn);
          return child;
        }
      }
      nsp = new Namespace(this, full);
      this.#nsps.set(full, nsp);
      if (full !== "/") this.#emitNewNamespace(nsp);
    }
    if (fn) nsp.on("connect", fn);
    return nsp;
  }

  /** socket.io's private name for `namespaces`, kept for apps that reach for it. */
  get _nsps(): ReadonlyMap<string, Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>> {
    return this.#nsps;
  }

  /** Namespaces by name, the children of dynamic namespaces included. */
  get namespaces(): ReadonlyMap<string, Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>> {
    return this.#nsps;
  }

  #emitNewNamespace(nsp: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>): void {
    this.sockets.emitReserved("new_namespace", nsp);
  }

  /**
   * Finds the namespace a client asks for: an existing one, or a new child of the first dynamic
   * namespace that accepts the name. Calls back with `undefined` when none does.
   */
  resolveNamespace(
    name: string,
    auth: Record<string, unknown> | undefined,
    callback: (
      nsp: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> | undefined,
      refusal?: ConnectErrorMessage,
    ) => void,
  ): void {
    const existing = this.#nsps.get(name);
    if (existing !== undefined) {
      callback(existing);
      return;
    }
    const candidates = [...this.#parents.entries()];
    let index = 0;
    const tryNext = (): void => {
      const entry = candidates[index++];
      if (entry === undefined) {
        callback(undefined);
        return;
      }
      const [matcher, parent] = entry;
      let answered = false;
      matcher(name, auth ?? {}, (err, accept) => {
        if (answered) return;
        answered = true;
        if (err || !accept) {
          tryNext();
          return;
        }
        const again = this.#nsps.get(name);
        if (again !== undefined) {
          callback(again);
          return;
        }
        if (this.#dynamicChildren >= this.options.maxDynamicNamespaces) {
          callback(undefined, ConnectErrorMessages.NAMESPACE_LIMIT);
          return;
        }
        callback(this.#createChild(parent, name));
      });
    };
    tryNext();
  }

  #createChild(
    parent: ParentNamespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    name: string,
  ): Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
    const child = parent.createChild(name);
    this.#nsps.set(name, child);
    this.#dynamicChildren++;
    if (this.options.cleanupEmptyChildNamespaces) {
      child.onEmpty = () => {
        this.#dynamicChildren--;
        if (this.#nsps.get(name) === child) this.#nsps.delete(name);
        parent.removeChild(child);
        settle(() => child.adapter.close(), "close");
      };
    }
    this.#emitNewNamespace(child);
    return child;
  }

  // ---- the main namespace's operators ----

  use(fn: NamespaceMiddleware<ListenEvents, EmitEvents, ServerSideEvents, SocketData>): this {
    this.sockets.use(fn);
    return this;
  }

  to(room: Room | readonly Room[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.sockets.to(room);
  }

  in(room: Room | readonly Room[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.sockets.in(room);
  }

  except(room: Room | readonly Room[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.sockets.except(room);
  }

  emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean {
    return this.sockets.emit(ev, ...args);
  }

  emitWithAck<Ev extends EventNamesWithAck<EmitEvents>>(
    ev: Ev,
    ...args: AllButLast<EventParams<EmitEvents, Ev>>
  ): Promise<FirstNonErrorArg<Last<EventParams<EmitEvents, Ev>>>> {
    const nsp = this.sockets as unknown as {
      emitWithAck(ev: Ev, ...rest: unknown[]): Promise<FirstNonErrorArg<Last<EventParams<EmitEvents, Ev>>>>;
    };
    return nsp.emitWithAck(ev, ...args);
  }

  send(...args: EventParams<EmitEvents, "message">): this {
    this.sockets.send(...args);
    return this;
  }

  write(...args: EventParams<EmitEvents, "message">): this {
    return this.send(...args);
  }

  serverSideEmit<Ev extends EventNames<ServerSideEvents>>(ev: Ev, ...args: EventParams<ServerSideEvents, Ev>): boolean {
    return this.sockets.serverSideEmit(ev, ...args);
  }

  serverSideEmitWithAck<Ev extends EventNamesWithAck<ServerSideEvents>>(
    ev: Ev,
    ...args: AllButLast<EventParams<ServerSideEvents, Ev>>
  ): Promise<FirstNonErrorArg<Last<EventParams<ServerSideEvents, Ev>>>[]> {
    const nsp = this.sockets as unknown as {
      serverSideEmitWithAck(
        ev: Ev,
        ...rest: unknown[]
      ): Promise<FirstNonErrorArg<Last<EventParams<ServerSideEvents, Ev>>>[]>;
    };
    return nsp.serverSideEmitWithAck(ev, ...args);
  }

  allSockets(): Promise<Set<SocketId>> {
    return this.sockets.allSockets();
  }

  compress(compress: boolean): BroadcastOperator<EmitEvents, SocketData> {
    return this.sockets.compress(compress);
  }

  get volatile(): BroadcastOperator<EmitEvents, SocketData> {
    return this.sockets.volatile;
  }

  get local(): BroadcastOperator<EmitEvents, SocketData> {
    return this.sockets.local;
  }

  timeout(ms: number): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData> {
    return this.sockets.timeout(ms);
  }

  fetchSockets(): Promise<RemoteSocket<EmitEvents, SocketData>[]> {
    return this.sockets.fetchSockets();
  }

  socketsJoin(room: Room | readonly Room[]): void {
    this.sockets.socketsJoin(room);
  }

  socketsLeave(room: Room | readonly Room[]): void {
    this.sockets.socketsLeave(room);
  }

  disconnectSockets(close = false): void {
    this.sockets.disconnectSockets(close);
  }

  // ---- listeners, on the main namespace ----

  on<Ev extends NamespaceEventNames<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>(
    ev: Ev,
    listener: NamespaceListener<ListenEvents, EmitEvents, ServerSideEvents, SocketData, Ev>,
  ): this {
    this.sockets.on(ev, listener as never);
    return this;
  }

  addListener<Ev extends NamespaceEventNames<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>(
    ev: Ev,
    listener: NamespaceListener<ListenEvents, EmitEvents, ServerSideEvents, SocketData, Ev>,
  ): this {
    return this.on(ev, listener);
  }

  once<Ev extends NamespaceEventNames<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>(
    ev: Ev,
    listener: NamespaceListener<ListenEvents, EmitEvents, ServerSideEvents, SocketData, Ev>,
  ): this {
    this.sockets.once(ev, listener as never);
    return this;
  }

  off(ev: string | symbol, listener: (...args: never[]) => void): this {
    this.sockets.off(ev, listener as (...args: unknown[]) => void);
    return this;
  }

  removeListener(ev: string | symbol, listener: (...args: never[]) => void): this {
    return this.off(ev, listener);
  }

  removeAllListeners(ev?: string | symbol): this {
    this.sockets.removeAllListeners(ev);
    return this;
  }

  listeners(ev: string | symbol): Array<(...args: never[]) => void> {
    return this.sockets.listeners(ev) as Array<(...args: never[]) => void>;
  }

  listenerCount(ev: string | symbol): number {
    return this.sockets.listenerCount(ev);
  }

  // ---- shutting down ----

  /**
   * Closes every socket ("server shutting down"), the engine, and the HTTP server when it was
   * given or created here. Clients see a transport close and reconnect.
   */
  close(fn?: (err?: Error) => void): Promise<void> {
    for (const nsp of this.#nsps.values()) {
      for (const socket of [...nsp.sockets.values()]) socket.onClose("server shutting down");
      settle(() => nsp.adapter.close(), "close");
    }
    for (const parent of this.#parents.values()) settle(() => parent.adapter.close(), "close");
    const engine = this.engine as EngineServer | undefined;
    engine?.close();
    const broker = brokerOf(this.#adapter);
    if (broker !== undefined) settle(() => broker.close(), "close");
    this.#closed = true;
    const httpServer = this.httpServer as AttachTarget | undefined;
    if (httpServer === undefined) {
      fn?.();
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      // as socket.io: the callback gets ERR_SERVER_NOT_RUNNING when the server was not listening
      httpServer.close((err) => {
        resolve();
        fn?.(err);
      });
      if ("closeIdleConnections" in httpServer) httpServer.closeIdleConnections();
    });
  }
}
