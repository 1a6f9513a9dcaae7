import {
  Agent,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import { connect, type Socket as NetSocket } from "node:net";
import type { Duplex } from "node:stream";
import type { Clock } from "../clock.js";
import type { EngineCluster } from "./cluster.js";
import { isRelayHeader, signRelay } from "./relay-signature.js";

/** Counters of the relay on this node (plain numbers, for metrics). */
export interface RelayStats {
  /** HTTP requests (polls) this node piped to another node. */
  relayedRequests: number;
  /** WebSocket upgrades this node piped to another node. */
  relayedUpgrades: number;
  /** Requests and upgrades answered 400 "Session ID unknown" here: their owner was dead, unknown or unreachable. */
  refusedUnknown: number;
  /** Requests the relay listener refused with a 403: no, a bad or a stale signature. */
  refusedSignature: number;
}

/** Where a relay listener is: a TCP host and port, or a Unix socket path. */
export type RelayTarget = { readonly host: string; readonly port: number } | { readonly socketPath: string };

/**
 * Reads an announced relay address: `host:port` (`[v6]:port` for IPv6), or a Unix socket path
 * (anything with a slash). Undefined when it is neither.
 */
export function parseRelayAddress(address: string): RelayTarget | undefined {
  if (address.includes("/")) return { socketPath: address };
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(address);
  if (match === null) return undefined;
  const port = Number(match[3]);
  if (port <= 0 || port > 65535) return undefined;
  return { host: (match[1] ?? match[2]) as string, port };
}

// Hop-by-hop headers (RFC 9110 7.6.1) belong to one connection and are not passed on by an HTTP
// relay; HTTP/2's connection headers are refused outright by an HTTP/2 response.
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authorization",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "http2-settings",
]);

function passedOn(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const connection = headers.connection;
  const named = new Set(
    typeof connection === "string" ? connection.split(",").map((name) => name.trim().toLowerCase()) : [],
  );
  const kept: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name.startsWith(":") || HOP_BY_HOP.has(name) || named.has(name)) continue;
    if (isRelayHeader(name)) continue;
    kept[name] = value;
  }
  return kept;
}

function ignoreError(): void {}

/** What a relayed request or upgrade needs: where to send it, and the signed headers. */
interface Prepared {
  readonly target: RelayTarget;
  readonly signed: [string, string][];
}

/**
 * The relaying side: pipes a request or an upgrade of another node's session to that node's
 * relay listener, as a stream, never parsed. The owner then serves it as its own. When the owner
 * cannot be found or reached, the caller's `refuse` answers the 400 (the session is as good as
 * gone: the client reconnects and recovers here or elsewhere).
 */
export class Relay {
  readonly stats: RelayStats = { relayedRequests: 0, relayedUpgrades: 0, refusedUnknown: 0, refusedSignature: 0 };
  readonly #cluster: EngineCluster;
  readonly #clock: Clock;
  readonly #connectTimeout: number;
  // Keep-alive connections to the owners: a poll's hop reuses one. No cap on sockets: each
  // pending long-poll GET holds one for up to pingInterval, and a cap would stall the others.
  readonly #agent = new Agent({ keepAlive: true });
  readonly #upgrades = new Set<Duplex>();
  #secret: Promise<Uint8Array> | undefined;
  #closed = false;

  constructor(cluster: EngineCluster, clock: Clock, connectTimeout: number) {
    this.#cluster = cluster;
    this.#clock = clock;
    this.#connectTimeout = connectTimeout;
  }

  /** The cluster's signing key, asked for once (again after a failure). */
  secret(): Promise<Uint8Array> {
    if (this.#secret === undefined) {
      const asked = Promise.resolve().then(() => this.#cluster.secret());
      this.#secret = asked;
      asked.catch(() => {
        if (this.#secret === asked) this.#secret = undefined;
      });
    }
    return this.#secret;
  }

  /** Pipes an HTTP request of the session of node `tag` to that node; `address` is the client's. */
  request(req: IncomingMessage, res: ServerResponse, tag: string, address: string, refuse: () => void): void {
    const unknown = (): void => {
      this.stats.refusedUnknown++;
      refuse();
    };
    this.#prepare(tag, req, address).then(
      (prepared) => {
        if (res.destroyed || res.headersSent) return;
        if (prepared === undefined) unknown();
        else this.#pipeRequest(req, res, prepared, unknown);
      },
      () => {
        if (!res.destroyed) unknown();
      },
    );
  }

  /** Pipes a WebSocket upgrade of the session of node `tag` to that node, head bytes included. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, tag: string, address: string, refuse: () => void): void {
    const unknown = (): void => {
      this.stats.refusedUnknown++;
      refuse();
    };
    this.#prepare(tag, req, address).then(
      (prepared) => {
        if (socket.destroyed) return;
        if (prepared === undefined) unknown();
        else this.#pipeUpgrade(req, socket, head, prepared, unknown);
      },
      () => {
        if (!socket.destroyed) unknown();
      },
    );
  }

  /** Drops the connections to the owners, and every upgrade in flight through this node. */
  close(): void {
    this.#closed = true;
    this.#agent.destroy();
    for (const socket of this.#upgrades) socket.destroy();
    this.#upgrades.clear();
  }

  async #prepare(tag: string, req: IncomingMessage, address: string): Promise<Prepared | undefined> {
    const [owner, secret] = await Promise.all([this.#cluster.locate(tag), this.secret()]);
    if (this.#closed || owner?.address === undefined) return undefined;
    const target = parseRelayAddress(owner.address);
    if (target === undefined) return undefined;
    const signed = signRelay(
      secret,
      this.#cluster.tag,
      address,
      req.method ?? "GET",
      req.url ?? "",
      this.#clock.date(),
    );
    return { target, signed };
  }

  /** Calls `onTimeout` unless `socket` connects within the connect timeout. */
  #guardConnect(socket: NetSocket, onTimeout: () => void): void {
    if (!socket.connecting) return;
    const clock = this.#clock;
    const timer = clock.setTimeout(onTimeout, this.#connectTimeout);
    const clear = (): void => {
      clock.clearTimeout(timer);
      socket.off("connect", clear);
      socket.off("close", clear);
    };
    socket.once("connect", clear);
    socket.once("close", clear);
  }

  #pipeRequest(req: IncomingMessage, res: ServerResponse, prepared: Prepared, unknown: () => void): void {
    const headers: IncomingHttpHeaders = passedOn(req.headers);
    for (const [name, value] of prepared.signed) headers[name] = value;
    const upstream = httpRequest({
      ...prepared.target,
      method: req.method,
      path: req.url,
      headers,
      agent: this.#agent,
    });
    this.stats.relayedRequests++;
    upstream.on("socket", (socket) => this.#guardConnect(socket as NetSocket, () => upstream.destroy()));
    upstream.on("error", () => {
      // the owner is unreachable or went away: before an answer, the session is as good as gone
      if (!res.headersSent) unknown();
      else res.destroy();
    });
    upstream.on("response", (answer) => {
      answer.on("error", () => res.destroy());
      answer.on("aborted", () => res.destroy());
      if (res.destroyed) {
        answer.destroy();
        return;
      }
      res.writeHead(answer.statusCode ?? 502, passedOn(answer.headers));
      answer.pipe(res);
    });
    // the client went away: the owner's side of the request goes too
    res.on("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.on("error", () => upstream.destroy());
    req.pipe(upstream);
  }

  #pipeUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, prepared: Prepared, unknown: () => void): void {
    const lines = [`${req.method ?? "GET"} ${req.url ?? "/"} HTTP/1.1`];
    const raw = req.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i] as string;
      if (!isRelayHeader(name.toLowerCase())) lines.push(`${name}: ${raw[i + 1] as string}`);
    }
    for (const [name, value] of prepared.signed) lines.push(`${name}: ${value}`);
    const target = prepared.target;
    const upstream = "socketPath" in target ? connect({ path: target.socketPath }) : connect(target);
    upstream.on("error", ignoreError);
    this.stats.relayedUpgrades++;
    this.#upgrades.add(socket);
    let connected = false;
    const done = (): void => {
      this.#upgrades.delete(socket);
      upstream.destroy();
      socket.destroy();
    };
    this.#guardConnect(upstream, () => upstream.destroy());
    upstream.once("connect", () => {
      connected = true;
      upstream.setNoDelay(true);
      upstream.write(`${lines.join("\r\n")}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      socket.pipe(upstream);
      upstream.pipe(socket);
    });
    upstream.once("close", () => {
      if (connected || socket.destroyed) done();
      else {
        this.#upgrades.delete(socket);
        unknown();
      }
    });
    socket.once("close", done);
  }
}
