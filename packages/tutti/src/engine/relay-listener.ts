import { createServer, type Server as HttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import type { Clock } from "../clock.js";
import { LISTEN_BACKLOG } from "./listen-backlog.js";
import { type RelayedFrom, verifyRelay } from "./relay-signature.js";

/** Where the relay listener listens: a Unix socket `path` (it wins), else `host` and `port`. */
export interface RelayListenOptions {
  readonly host: string;
  readonly port: number;
  readonly path: string | undefined;
}

/** What the relay listener hands its requests to (the engine). */
export interface RelayListenerHost {
  readonly clock: Clock;
  /** The cluster's signing key. */
  secret(): Promise<Uint8Array>;
  /** True when the request is for the engine's path. */
  matches(req: IncomingMessage): boolean;
  /** A request with a valid signature. */
  onRequest(req: IncomingMessage, res: ServerResponse, from: RelayedFrom): void;
  /** An upgrade with a valid signature. */
  onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, from: RelayedFrom): void;
  /** A request or upgrade with no, a bad or a stale signature: the host answers it (403). */
  onForbidden(req: IncomingMessage, target: { res: ServerResponse } | { socket: Duplex }): void;
}

function ignoreError(): void {}

/**
 * The relay listener: an HTTP server only other nodes talk to, feeding the same engine as the
 * public one. It takes a request only when the relay headers are signed with the cluster's key
 * (fresh within 30 s); only here do those headers count.
 */
export class RelayListener {
  readonly server: HttpServer;
  readonly #host: RelayListenerHost;
  /** Responses not yet finished: told to close their connection when the listener closes. */
  readonly #inFlight = new Set<ServerResponse>();
  #closing = false;

  constructor(host: RelayListenerHost) {
    this.#host = host;
    this.server = createServer();
    // the relaying nodes keep their connections for later polls; longer than their idle reuse
    this.server.keepAliveTimeout = 30_000;
    this.server.on("request", (req, res) => this.#onRequest(req, res));
    this.server.on("upgrade", (req, socket, head) => this.#onUpgrade(req, socket, head));
  }

  /** Listens; resolves with the address the other nodes can reach it at (unless advertised otherwise). */
  listen(opts: RelayListenOptions): Promise<string> {
    const server = this.server;
    return new Promise<string>((resolve, reject) => {
      const failed = (err: Error): void => reject(err);
      server.once("error", failed);
      const listening = (): void => {
        server.off("error", failed);
        if (opts.path !== undefined) {
          resolve(opts.path);
          return;
        }
        const { address, port } = server.address() as AddressInfo;
        resolve(address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`);
      };
      // exclusive: in a node:cluster worker a listener is otherwise shared with the other workers
      // (port 0 included), and a request relayed to this node would reach any of them
      if (opts.path !== undefined)
        server.listen({ path: opts.path, backlog: LISTEN_BACKLOG, exclusive: true }, listening);
      else server.listen({ host: opts.host, port: opts.port, backlog: LISTEN_BACKLOG, exclusive: true }, listening);
    });
  }

  /**
   * Stops listening and lets no connection outlive its last response: the other nodes hold
   * keep-alive connections here, which would otherwise keep the process up for the idle timeout.
   */
  close(): void {
    this.#closing = true;
    this.server.keepAliveTimeout = 1;
    for (const res of this.#inFlight) if (!res.headersSent) res.setHeader("Connection", "close");
    this.server.close();
    this.server.closeIdleConnections();
  }

  #verify(req: IncomingMessage): Promise<RelayedFrom | undefined> {
    return this.#host.secret().then(
      (secret) => verifyRelay(secret, req, this.#host.clock.date()),
      () => undefined,
    );
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    if (this.#closing) res.setHeader("Connection", "close");
    else {
      this.#inFlight.add(res);
      res.once("close", () => this.#inFlight.delete(res));
    }
    if (!this.#host.matches(req)) {
      res.writeHead(404, { "Content-Type": "text/plain" });
      res.end("Not Found");
      return;
    }
    this.#verify(req).then((from) => {
      if (res.destroyed) return;
      if (from === undefined) this.#host.onForbidden(req, { res });
      else this.#host.onRequest(req, res, from);
    });
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on("error", ignoreError);
    if (!this.#host.matches(req)) {
      socket.destroy();
      return;
    }
    this.#verify(req).then((from) => {
      if (socket.destroyed) return;
      if (from === undefined) this.#host.onForbidden(req, { socket });
      else this.#host.onUpgrade(req, socket, head, from);
    });
  }
}
