import { EventEmitter } from "node:events";
import {
  createServer,
  type Server as HttpServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  ServerResponse,
} from "node:http";
import type { Socket as NetSocket } from "node:net";
import type { Duplex } from "node:stream";
import { serialize as serializeCookie } from "cookie";
import { type WebSocket, WebSocketServer } from "ws";
import { CloseReasons, ErrorCodes, type ErrorSpec, TuttiError } from "../errors.js";
import type { EngineCluster } from "./cluster.js";
import { Admission, ConnectionLimiter } from "./connection-limiter.js";
import { resolveCors } from "./cors.js";
import { DeadlineQueue } from "./deadline-queue.js";
import { EngineSession, type SessionHost } from "./engine-session.js";
import { FlushScheduler } from "./flush-scheduler.js";
import { abortUpgrade, sendHttpError } from "./http-error.js";
import { interceptRequests } from "./intercept-requests.js";
import { LISTEN_BACKLOG } from "./listen-backlog.js";
import {
  type EngineOptions,
  type RelayOptions,
  type ResolvedEngineOptions,
  resolveEngineOptions,
  resolveRelayOptions,
  type TransportName,
} from "./options.js";
import { Relay, type RelayStats } from "./relay.js";
import { RelayListener } from "./relay-listener.js";
import type { RelayedFrom } from "./relay-signature.js";
import { checkAllowedOrigin, checkRequest, type Query, type Refusal, readQuery } from "./request-check.js";
import { type Route, route } from "./router.js";
import { clusterSessionId, isNodeTag, randomSessionId } from "./session-id.js";
import { PollingTransport } from "./transports/polling.js";
import { WebSocketTransport } from "./transports/websocket.js";

function ignoreError(): void {}

/** A cluster the engine joined: its membership, the relaying side and the relay listener. */
interface Joined {
  readonly cluster: EngineCluster;
  readonly relay: Relay;
  readonly listener: RelayListener;
}

/** What the 101 response of an upgrade in flight needs: middleware headers, a new session's id. */
interface PendingUpgrade {
  headers: OutgoingHttpHeaders;
  id: string | undefined;
}

/**
 * An engine request as middlewares see it: `_query` holds the parsed query string, as engine.io
 * sets it (apps tell a handshake from a session's request by `req._query.sid === undefined`).
 */
export type EngineRequest = IncomingMessage & { _query: Record<string, string> };

/** Connect-style middleware run on every engine HTTP request and WebSocket upgrade request. */
export type EngineMiddleware = (req: EngineRequest, res: ServerResponse, next: (err?: unknown) => void) => void;

/**
 * An express or connect middleware typed on its own Request and Response, which extend Node's
 * (express-session, passport.session(), helmet). engine.io's `use(fn: any)` takes them; the
 * method-signature form makes TypeScript check their parameters bivariantly, so they fit too.
 */
type ConnectMiddleware = {
  bivariant(req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void): void;
}["bivariant"];

/** Emitted as `connection_error` when a request is refused. */
export interface ConnectionError {
  req: IncomingMessage;
  /** The Engine.IO error code (0-5), 3 for refusals of our own such as a payload too large. */
  code: number;
  message: string;
  context: Record<string, unknown>;
}

export interface EngineServerEvents {
  connection: [session: EngineSession];
  connection_error: [error: ConnectionError];
  initial_headers: [headers: OutgoingHttpHeaders, req: IncomingMessage];
  headers: [headers: OutgoingHttpHeaders, req: IncomingMessage];
  close: [];
}

/**
 * The Engine.IO v4 server: handshakes, sessions, polling and WebSocket transports, the upgrade,
 * and the protocol's HTTP errors. Attach it to an `http.Server` or let it listen on a port.
 */
export class EngineServer extends EventEmitter<EngineServerEvents> implements SessionHost {
  readonly opts: ResolvedEngineOptions;
  readonly scheduler = new FlushScheduler();
  readonly pings: DeadlineQueue;
  readonly pongs: DeadlineQueue;
  /** Open sessions by id. */
  readonly clients = new Map<string, EngineSession>();
  httpServer: HttpServer | undefined;
  readonly #wss: WebSocketServer;
  readonly #middlewares: EngineMiddleware[] = [];
  /** Per upgrade request in flight: headers middlewares set, and the id of a new session. */
  readonly #pendingUpgrades = new WeakMap<IncomingMessage, PendingUpgrade>();
  #ownsHttpServer = false;
  #closed = false;
  readonly #limiter: ConnectionLimiter;
  /** The address each session is counted under by the limiter. */
  readonly #addresses = new WeakMap<EngineSession, string>();
  #joined: Joined | undefined;
  /** Requests and upgrades another node relayed here, with what their signature vouches for. */
  readonly #relayed = new WeakMap<IncomingMessage, RelayedFrom>();

  constructor(opts: EngineOptions = {}) {
    super();
    this.opts = resolveEngineOptions(opts);
    const clock = this.opts.clock;
    this.#limiter = new ConnectionLimiter(this.opts);
    this.pings = new DeadlineQueue(this.opts.pingInterval, clock);
    this.pongs = new DeadlineQueue(this.opts.pingTimeout, clock);
    this.#wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: this.opts.maxHttpBufferSize,
      perMessageDeflate: this.opts.perMessageDeflate,
    });
    this.#wss.on("headers", (lines, req) => this.#onWebSocketHeaders(lines, req));
  }

  /**
   * Session id generator; when set, it wins over the `generateId` option. engine.io apps
   * assign it after construction (`io.engine.generateId = (req) => uuid()`).
   */
  generateId: ((req: IncomingMessage) => string | Promise<string>) | undefined;

  get clientsCount(): number {
    return this.clients.size;
  }

  /** Counters of the relay: requests and upgrades piped to other nodes, refusals (all 0 outside a cluster). */
  get relayStats(): Readonly<RelayStats> {
    return (
      this.#joined?.relay.stats ?? { relayedRequests: 0, relayedUpgrades: 0, refusedUnknown: 0, refusedSignature: 0 }
    );
  }

  /**
   * The address of the client that made `req`: for a request another node relayed here, the one
   * that node signed (its TCP peer, or the forwarded client behind `trustedProxies`); otherwise
   * the TCP peer's. For middlewares and `connection_error` listeners, which on a relayed request
   * would otherwise see the relaying node.
   */
  remoteAddress(req: IncomingMessage): string {
    return this.#relayed.get(req)?.address ?? req.socket?.remoteAddress ?? "";
  }

  /** The cluster this engine joined, if any. */
  get cluster(): EngineCluster | undefined {
    return this.#joined?.cluster;
  }

  /**
   * Joins a cluster, so that any node can take any request (no sticky sessions): the ids of new
   * sessions start with `cluster.tag`; a request for another node's session is piped to that
   * node's relay listener, started here (`relay` option, overridden by `opts`) and announced
   * with `cluster.setAddress` once it listens. Resolves with the announced address.
   *
   * Sessions whose ids come from the app's own `generateId` cannot be relayed: their requests
   * must reach this node (a sticky balancer), or they get the 400 "Session ID unknown" elsewhere.
   */
  joinCluster(cluster: EngineCluster, opts: RelayOptions = {}): Promise<string> {
    if (this.#joined !== undefined) throw new TuttiError("INVALID_OPTION", "engine already joined a cluster");
    if (this.#closed) throw new TuttiError("INVALID_OPTION", "engine is closed");
    if (!isNodeTag(cluster.tag)) {
      throw new TuttiError(
        "INVALID_OPTION",
        `cluster tag must be 6 base64url characters, got "${String(cluster.tag)}"`,
      );
    }
    const relayOpts = resolveRelayOptions({ ...this.opts.relay, ...opts });
    const clock = this.opts.clock;
    const relay = new Relay(cluster, clock, relayOpts.connectTimeout ?? 5000);
    const listener = new RelayListener({
      clock,
      secret: () => relay.secret(),
      matches: (req) => this.matches(req),
      onRequest: (req, res, from) => {
        this.#relayed.set(req, from);
        this.handleRequest(req, res);
      },
      onUpgrade: (req, socket, head, from) => {
        this.#relayed.set(req, from);
        this.handleUpgrade(req, socket, head);
      },
      onForbidden: (req, target) => {
        relay.stats.refusedSignature++;
        const refusal: Refusal = { code: "FORBIDDEN", context: { name: "RELAY_SIGNATURE_INVALID" } };
        if ("res" in target) this.#refuseHttp(req, target.res, {}, refusal);
        else this.#refuseUpgrade(req, target.socket, refusal);
      },
    });
    this.#joined = { cluster, relay, listener };
    const listening = listener
      .listen({
        host: relayOpts.host ?? process.env.TUTTI_RELAY_HOST ?? "127.0.0.1",
        port: relayOpts.port ?? 0,
        path: relayOpts.path,
      })
      .then((address) => {
        if (this.#closed) throw new TuttiError("INVALID_OPTION", "engine closed before its relay listener listened");
        const advertised = relayOpts.advertise ?? address;
        cluster.setAddress(advertised);
        return advertised;
      });
    // a caller that does not wait for the listener must not crash the process when it fails
    listening.catch(ignoreError);
    return listening;
  }

  /** Adds a middleware run before each request is handled (express-session, helmet, ...). */
  use(middleware: EngineMiddleware): this;
  use(middleware: ConnectMiddleware): this;
  use(middleware: EngineMiddleware | ConnectMiddleware): this {
    // either form gets the EngineRequest; the second only declares less of it
    this.#middlewares.push(middleware as EngineMiddleware);
    return this;
  }

  /**
   * Answers requests under `opts.path` on `server`; every other request still reaches the
   * handlers the server already had, so the engine runs beside an existing app.
   */
  attach(server: HttpServer): this {
    if (this.httpServer !== undefined) throw new TuttiError("INVALID_OPTION", "engine is already attached");
    this.httpServer = server;
    interceptRequests(server, (req, res) => {
      // once closed, the engine steps aside: a server attached again after close() answers
      if (this.#closed || !this.matches(req)) return false;
      this.handleRequest(req, res);
      return true;
    });
    server.on("upgrade", this.#onUpgrade);
    return this;
  }

  /** The server's upgrade listener; removed on close, so an engine attached later gets the upgrades. */
  readonly #onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (this.matches(req)) {
      this.handleUpgrade(req, socket, head);
    } else if (this.opts.destroyUpgrade) {
      socket.on("error", ignoreError);
      // Give the app's own upgrade listeners a chance; destroy the socket if none answers.
      const clock = this.opts.clock;
      const timer = clock.setTimeout(() => {
        if (socket.writable && (socket as NetSocket).bytesWritten <= 0) socket.destroy();
      }, this.opts.destroyUpgradeTimeout);
      socket.once("close", () => clock.clearTimeout(timer));
    }
  };

  /** Creates an HTTP server answering only the engine, and listens on `port`. */
  listen(port: number, hostname?: string, callback?: () => void): this {
    const server = createServer();
    this.attach(server);
    this.#ownsHttpServer = true;
    server.listen({ port, host: hostname, backlog: LISTEN_BACKLOG }, callback);
    return this;
  }

  /** True when the request is for the engine's path. */
  matches(req: IncomingMessage): boolean {
    return req.url?.startsWith(this.opts.path) === true;
  }

  /** Handles one HTTP request under the engine's path (handshake, GET or POST). */
  handleRequest(req: IncomingMessage, res: ServerResponse): void {
    const query = readQuery(req);
    // The allowlist comes first: a refused origin gets neither CORS headers nor the middlewares.
    const refusedOrigin = checkAllowedOrigin(this.opts, req);
    if (refusedOrigin !== undefined) {
      this.#refuseHttp(req, res, {}, refusedOrigin);
      return;
    }
    this.#withCors(req, res, (headers) => {
      const where = this.#route(req, query);
      if (where.kind === "relay") {
        this.#joined?.relay.request(req, res, where.tag, this.opts.clientPeer(req), () =>
          this.#refuseHttp(req, res, headers, { code: "SESSION_ID_UNKNOWN", context: { sid: where.sid } }),
        );
        return;
      }
      if (where.kind === "handshake" && this.#relayed.has(req)) {
        this.#refuseHttp(req, res, headers, { code: "BAD_REQUEST", context: { name: "RELAYED_HANDSHAKE" } });
        return;
      }
      this.#runMiddlewares(req, res, (failed) => {
        if (failed) {
          this.#refuseHttp(req, res, headers, { code: "BAD_REQUEST", context: { name: "MIDDLEWARE_FAILURE" } });
          return;
        }
        this.#verify(req, query, false, res, (refusal, admission, session) => {
          if (refusal) {
            this.#refuseHttp(req, res, headers, refusal);
            return;
          }
          if (query.sid !== undefined) {
            const transport = session?.transport;
            if (!(transport instanceof PollingTransport)) {
              const context = { name: "TRANSPORT_MISMATCH", transport: "polling", previousTransport: transport?.name };
              this.#refuseHttp(req, res, headers, { code: "BAD_REQUEST", context });
              return;
            }
            this.emit("headers", headers, req);
            transport.onRequest(req, res, headers);
            return;
          }
          this.#handshakePolling(req, res, headers, admission as Admission);
        });
      });
    });
  }

  /** Handles an HTTP upgrade under the engine's path: a WebSocket handshake or upgrade. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // Node removes its own 'error' listener from upgrade sockets: without one, a client's
    // connection reset would be an uncaught error.
    socket.on("error", ignoreError);
    const query = readQuery(req);
    const refusedOrigin = checkAllowedOrigin(this.opts, req);
    if (refusedOrigin !== undefined) {
      this.#refuseUpgrade(req, socket, refusedOrigin);
      return;
    }
    const where = this.#route(req, query);
    if (where.kind === "relay") {
      this.#joined?.relay.upgrade(req, socket, head, where.tag, this.opts.clientPeer(req), () =>
        this.#refuseUpgrade(req, socket, { code: "SESSION_ID_UNKNOWN", context: { sid: where.sid } }),
      );
      return;
    }
    if (where.kind === "handshake" && this.#relayed.has(req)) {
      this.#refuseUpgrade(req, socket, { code: "BAD_REQUEST", context: { name: "RELAYED_HANDSHAKE" } });
      return;
    }
    const res = new ServerResponse(req);
    res.assignSocket(socket as NetSocket);
    // A middleware that answers the upgrade request itself (a 401, say) ends the connection.
    res.once("finish", () => socket.destroy());
    this.#runMiddlewares(req, res, (failed) => {
      if (res.headersSent || res.writableEnded) return;
      res.detachSocket(socket as NetSocket);
      if (failed) {
        this.#refuseUpgrade(req, socket, { code: "BAD_REQUEST", context: { name: "MIDDLEWARE_FAILURE" } });
        return;
      }
      this.#verify(req, query, true, socket, (refusal, admission) => {
        if (refusal) {
          this.#refuseUpgrade(req, socket, refusal);
          return;
        }
        // Headers the middlewares set go on the 101 response. Some set theirs from a writeHead
        // hook (express-session through on-headers), so run writeHead on the detached response:
        // it writes nothing, but the hooks fire.
        res.writeHead(101);
        const headers = res.getHeaders();
        const upgrade = (id: string | undefined): void => {
          this.#pendingUpgrades.set(req, { headers, id });
          this.#wss.handleUpgrade(req, socket, head, (ws) => {
            this.#pendingUpgrades.delete(req);
            this.#onWebSocket(req, ws, socket, query, id, admission);
          });
        };
        if (query.sid !== undefined) {
          upgrade(undefined);
          return;
        }
        this.#generateId(req, (err, id) => {
          if (err !== undefined || id === undefined) {
            this.#refuseUpgrade(req, socket, {
              code: "BAD_REQUEST",
              context: { name: "ID_GENERATION_ERROR", error: err },
            });
          } else if (!socket.destroyed) {
            upgrade(id);
          }
        });
      });
    });
  }

  /** Closes every session with "server shutdown", and the HTTP server if the engine created it. */
  close(callback?: (err?: Error) => void): this {
    if (this.#closed) {
      callback?.();
      return this;
    }
    this.#closed = true;
    this.httpServer?.removeListener("upgrade", this.#onUpgrade);
    for (const session of [...this.clients.values()]) session.terminate(CloseReasons.SERVER_SHUTDOWN);
    this.#wss.close();
    if (this.#joined !== undefined) {
      this.#joined.relay.close();
      this.#joined.listener.close();
    }
    const server = this.httpServer;
    if (this.#ownsHttpServer && server !== undefined) {
      server.close((err) => callback?.(err));
      server.closeIdleConnections();
    } else {
      callback?.();
    }
    this.emit("close");
    return this;
  }

  // ---- SessionHost ----

  onSessionClosed(session: EngineSession): void {
    if (this.clients.get(session.id) === session) this.clients.delete(session.id);
    const address = this.#addresses.get(session);
    if (address !== undefined) {
      this.#addresses.delete(session);
      this.#limiter.release(address);
    }
  }

  // ---- internals ----

  /** Where a request goes (see `Route`): decided once, before the middlewares. */
  #route(req: IncomingMessage, query: Query): Route {
    return route(query.sid, (sid) => this.clients.has(sid), this.#joined?.cluster.tag, this.#relayed.has(req));
  }

  /**
   * Calls back with a new session id; `generateId` may return it or a promise of it. In a
   * cluster, the default id starts with the node's tag, so the other nodes find its owner.
   */
  #generateId(req: IncomingMessage, callback: (err: unknown, id?: string) => void): void {
    const generate = this.generateId ?? this.opts.generateId;
    if (generate === undefined) {
      const joined = this.#joined;
      callback(undefined, joined === undefined ? randomSessionId() : clusterSessionId(joined.cluster.tag));
      return;
    }
    let result: string | Promise<string>;
    try {
      result = generate(req);
    } catch (err) {
      callback(err ?? new Error("generateId threw"));
      return;
    }
    const check = (id: unknown): void => {
      if (typeof id === "string" && id.length > 0) callback(undefined, id);
      else callback(new TypeError("generateId must give a non-empty string"));
    };
    if (typeof result === "string") check(result);
    else Promise.resolve(result).then(check, (err: unknown) => callback(err ?? new Error("generateId rejected")));
  }

  #withCors(req: IncomingMessage, res: ServerResponse, next: (headers: OutgoingHttpHeaders) => void): void {
    const cors = this.opts.cors;
    if (!cors) {
      next({});
      return;
    }
    resolveCors(cors, req, (err, result) => {
      if (err || result === undefined) {
        this.#refuseHttp(req, res, {}, { code: "FORBIDDEN", context: { name: "CORS_ERROR" } });
        return;
      }
      // every OPTIONS is a preflight, as the cors package treats it
      if (result.preflight) {
        res.writeHead(result.status, result.headers);
        res.end();
        return;
      }
      next(result.headers);
    });
  }

  /**
   * Runs the middlewares in order. Each `next` counts once; an error passed to `next` or thrown
   * by a middleware fails the request. An error thrown further down the chain (the handshake,
   * the app's `connection` listener) is not the middleware's: it propagates unchanged.
   */
  #runMiddlewares(req: IncomingMessage, res: ServerResponse, done: (failed: boolean) => void): void {
    const list = this.#middlewares;
    let finished = false;
    const finish = (failed: boolean): void => {
      finished = true;
      done(failed);
    };
    const run = (index: number): void => {
      const middleware = list[index];
      if (middleware === undefined) {
        finish(false);
        return;
      }
      let called = false;
      const next = (err?: unknown): void => {
        if (called || finished) return;
        called = true;
        if (err !== undefined && err !== null) finish(true);
        else run(index + 1);
      };
      try {
        middleware(req as EngineRequest, res, next);
      } catch (err) {
        if (finished) throw err;
        finish(true);
      }
    };
    run(0);
  }

  /**
   * The protocol's checks, then for a handshake the per-address limits and `allowRequest`.
   * Calls back with the refusal, or with the handshake's admission, or for a request of an open
   * session with that session (looked up here, once, after the middlewares). `lifetime` is the response or socket whose close gives the admission back.
   * `upgrade` is said, not guessed from the response's class: on an HTTP/2 server the response
   * of a plain request is an Http2ServerResponse.
   */
  #verify(
    req: IncomingMessage,
    query: Query,
    upgrade: boolean,
    lifetime: ServerResponse | Duplex,
    done: (refusal: Refusal | undefined, admission?: Admission, session?: EngineSession) => void,
  ): void {
    const session = query.sid === undefined ? undefined : this.clients.get(query.sid);
    const refusal = checkRequest(this.opts, req, query, upgrade, this.#closed, session);
    if (refusal !== undefined || query.sid !== undefined) {
      done(refusal, undefined, session);
      return;
    }
    let address: unknown;
    try {
      address = this.#limiter.addressOf(req);
    } catch (error) {
      done({ code: "BAD_REQUEST", context: { name: "CLIENT_ADDRESS_ERROR", error } });
      return;
    }
    if (typeof address !== "string") {
      done({ code: "BAD_REQUEST", context: { name: "CLIENT_ADDRESS_ERROR", address } });
      return;
    }
    const limited = this.#limiter.admit(address);
    if (limited !== undefined) {
      done(limited);
      return;
    }
    const admission = new Admission(this.#limiter, address, lifetime);
    const allowRequest = this.opts.allowRequest;
    if (allowRequest === undefined) {
      done(undefined, admission);
      return;
    }
    let answered = false;
    const answer = (refused: Refusal | undefined): void => {
      if (answered) return;
      answered = true;
      if (refused !== undefined) {
        admission.release();
        done(refused);
      } else done(undefined, admission);
    };
    try {
      allowRequest(req, (message, success) => {
        answer(success ? undefined : { code: "FORBIDDEN", message: message ?? undefined, context: { message } });
      });
    } catch (error) {
      answer({ code: "FORBIDDEN", context: { name: "ALLOW_REQUEST_ERROR", error } });
    }
  }

  #connectionError(req: IncomingMessage, refusal: Refusal): void {
    if (this.listenerCount("connection_error") === 0) return;
    const spec: ErrorSpec = ErrorCodes[refusal.code];
    // As engine.io: the message is the code's fixed text; a refusal's own text (allowRequest's)
    // goes to the client in the response body and to the app in `context.message`.
    this.emit("connection_error", {
      req,
      code: spec.engineCode ?? 3,
      message: spec.message,
      context: refusal.context,
    });
  }

  #refuseHttp(req: IncomingMessage, res: ServerResponse, headers: OutgoingHttpHeaders, refusal: Refusal): void {
    this.#connectionError(req, refusal);
    sendHttpError(res, refusal.code, headers, refusal.message);
  }

  #refuseUpgrade(req: IncomingMessage, socket: Duplex, refusal: Refusal): void {
    this.#connectionError(req, refusal);
    abortUpgrade(socket, refusal.code, refusal.message);
  }

  #setCookie(headers: OutgoingHttpHeaders, sid: string): void {
    const cookie = this.opts.cookie;
    if (!cookie) return;
    const { name = "io", path, ...rest } = cookie;
    headers["Set-Cookie"] = serializeCookie(name, sid, {
      ...rest,
      ...(path === false ? {} : { path }),
    });
  }

  #upgradesFor(transport: TransportName): string[] {
    if (transport !== "polling" || !this.opts.allowUpgrades) return [];
    return this.opts.transports.includes("websocket") ? ["websocket"] : [];
  }

  #handshakePolling(
    req: IncomingMessage,
    res: ServerResponse,
    headers: OutgoingHttpHeaders,
    admission: Admission,
  ): void {
    this.#generateId(req, (err, id) => {
      if (err !== undefined || id === undefined) {
        this.#refuseHttp(req, res, headers, {
          code: "BAD_REQUEST",
          context: { name: "ID_GENERATION_ERROR", error: err },
        });
      } else if (!res.destroyed) {
        this.#openPolling(req, res, headers, id, admission);
      }
    });
  }

  #openPolling(
    req: IncomingMessage,
    res: ServerResponse,
    headers: OutgoingHttpHeaders,
    id: string,
    admission: Admission,
  ): void {
    const transport = new PollingTransport(this.opts);
    const session = new EngineSession(id, this, transport, req);
    this.#track(session, admission);
    this.#setCookie(headers, id);
    this.emit("initial_headers", headers, req);
    this.emit("headers", headers, req);
    session.open(this.#upgradesFor("polling"));
    this.emit("connection", session);
    transport.onRequest(req, res, headers);
  }

  /** Registers an opened session; its admission's place under the address limit passes to it. */
  #track(session: EngineSession, admission: Admission): void {
    this.clients.set(session.id, session);
    this.#addresses.set(session, admission.claim());
  }

  #onWebSocketHeaders(lines: string[], req: IncomingMessage): void {
    const pending = this.#pendingUpgrades.get(req);
    const headers: OutgoingHttpHeaders = { ...pending?.headers };
    if (pending?.id !== undefined) {
      this.#setCookie(headers, pending.id);
      this.emit("initial_headers", headers, req);
    }
    this.emit("headers", headers, req);
    for (const [key, value] of Object.entries(headers)) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) lines.push(`${key}: ${String(v)}`);
    }
  }

  #onWebSocket(
    req: IncomingMessage,
    ws: WebSocket,
    socket: Duplex,
    query: Query,
    id: string | undefined,
    admission: Admission | undefined,
  ): void {
    const transport = new WebSocketTransport(ws, socket, query.b64 === undefined);
    if (id === undefined) {
      const session = this.clients.get(query.sid ?? "");
      if (session === undefined) transport.close("server");
      else session.upgradeTo(transport);
      return;
    }
    const session = new EngineSession(id, this, transport, req);
    this.#track(session, admission as Admission);
    session.open([]);
    this.emit("connection", session);
  }
}
