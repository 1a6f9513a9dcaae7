import type { IncomingMessage } from "node:http";
import { isIPv4, isIPv6 } from "node:net";
import type { PerMessageDeflateOptions } from "ws";
import { type Clock, systemClock } from "../clock.js";
import { TuttiError } from "../errors.js";
import type { HandshakeRate } from "./connection-limiter.js";
import type { CorsOptions } from "./cors.js";
import { plainAddress, TrustedProxies } from "./trusted-proxies.js";

export type TransportName = "polling" | "websocket";

export interface CookieOptions {
  name?: string;
  path?: string | false;
  httpOnly?: boolean;
  sameSite?: "strict" | "lax" | "none" | boolean;
  secure?: boolean;
  domain?: string;
  maxAge?: number;
}

/**
 * `allowRequest(req, callback)`: call `callback(null, true)` to accept a handshake, or
 * `callback(message, false)` to refuse it with HTTP 403 and Engine.IO error code 4.
 */
export type AllowRequest = (
  req: IncomingMessage,
  callback: (err: string | null | undefined, success: boolean) => void,
) => void;

/**
 * The relay listener of a node in a cluster (`EngineServer#joinCluster`): where the other nodes
 * send it the requests of its sessions that reached them. It must be reachable from the other
 * nodes and from nobody else (it trusts the cluster's signature only).
 */
export interface RelayOptions {
  /** Interface to listen on. Default: the `TUTTI_RELAY_HOST` environment variable, else "127.0.0.1". */
  host?: string;
  /** Port to listen on. Default 0 (any free port). */
  port?: number;
  /** A Unix socket path to listen on instead of host and port (node:cluster workers). */
  path?: string;
  /** The address announced to the other nodes ("10.0.0.5:7000", a socket path). Default: where it listens. */
  advertise?: string;
  /** Milliseconds a relaying node waits to connect to an owner before answering 400. Default 5000. */
  connectTimeout?: number;
}

/**
 * Which browser origins may connect: a list of origins (`"https://app.example.com"`) or a
 * function. A request whose Origin header is refused gets HTTP 403 (ORIGIN_NOT_ALLOWED);
 * a request without an Origin header (not from a browser) is let through.
 */
export type AllowedOrigins = readonly string[] | ((origin: string, req: IncomingMessage) => boolean);

export interface EngineOptions {
  /** Request path the engine answers on. Default "/socket.io/". */
  path?: string;
  /** Add a trailing slash to `path` when matching. Default true. */
  addTrailingSlash?: boolean;
  /** Milliseconds between server pings. Default 25000. */
  pingInterval?: number;
  /** Milliseconds to wait for a pong before closing with "ping timeout". Default 20000. */
  pingTimeout?: number;
  /** Milliseconds an upgrade may take before the probe transport is dropped. Default 10000. */
  upgradeTimeout?: number;
  /** Largest message or polling request body in bytes. Default 1e6. */
  maxHttpBufferSize?: number;
  /** Transports accepted. Default ["polling", "websocket"]. */
  transports?: TransportName[];
  /** Allow polling sessions to upgrade to WebSocket. Default true. */
  allowUpgrades?: boolean;
  /** Decide whether a handshake or upgrade request is accepted. */
  allowRequest?: AllowRequest;
  /** CORS for the polling transport. Off by default. */
  cors?: CorsOptions | false;
  /** Set a cookie holding the session id on the handshake. Off by default. */
  cookie?: boolean | CookieOptions;
  /** WebSocket per-message deflate, passed to `ws`. Off by default. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** gzip/deflate for polling responses at or above `threshold` bytes. Default on, threshold 1024. */
  httpCompression?: boolean | { threshold?: number };
  /**
   * Most bytes a session may hold for a client that does not read: queued packets (a shared
   * broadcast frame counted in full for each recipient) plus what the transport has not yet
   * written. A packet queued while an earlier turn's backlog still waits, and that would take the
   * backlog past it, closes the session with "slow consumer"; what is queued in one go for a
   * client with nothing waiting always goes, whatever its size. Default 4 MiB.
   */
  maxBufferedBytes?: number;
  /** Destroy upgrade requests outside `path` that nobody else answers. Default true. */
  destroyUpgrade?: boolean;
  /** Milliseconds before such an upgrade request is destroyed. Default 1000. */
  destroyUpgradeTimeout?: number;
  /** Session id generator, sync or async. Default: 15 random bytes, base64url (20 characters). */
  generateId?: (req: IncomingMessage) => string | Promise<string>;
  /**
   * Origins allowed to connect, checked on every request and upgrade (handshakes, polls,
   * WebSocket upgrades), unlike `cors`, which only tells browsers. Default: every origin.
   */
  allowedOrigins?: AllowedOrigins;
  /**
   * Most sessions open at once from one address (see `clientAddress`). A handshake past it gets
   * HTTP 429 (TOO_MANY_CONNECTIONS). Default 20000: a load test or a reconnect storm of 10,000
   * clients from one machine or through one proxy fits, with room for sessions of the clients'
   * previous connections that have not timed out yet. Infinity lifts it.
   */
  maxConnectionsPerIp?: number;
  /**
   * Handshakes per address, as a token bucket: `burst` at once, refilled at `perSecond`. A
   * handshake with no token left gets HTTP 429 (HANDSHAKE_RATE_LIMITED). Default
   * `{burst: 10000, perSecond: 1000}`: 10,000 clients reconnecting at once from one address
   * all get in, whatever the machine's speed; false lifts it.
   */
  handshakeRate?: Partial<HandshakeRate> | false;
  /**
   * Proxies and load balancers in front of the server, as addresses or CIDR ranges, IPv4 or IPv6
   * (`["10.0.0.0/8", "fd00::/8"]`). For a request whose TCP peer is one of them, the per-address
   * limits count under the client named in X-Forwarded-For: the right-most entry that is not
   * itself a trusted proxy. Requests from other peers count under the peer. Default: none (every
   * request counts under its TCP peer).
   */
  trustedProxies?: readonly string[];
  /**
   * The address that `maxConnectionsPerIp` and `handshakeRate` count under. It gets the request
   * and the address Tutti would use (the TCP peer, or the forwarded client when the peer is one
   * of `trustedProxies`; an IPv6 address as its /64 network), and returns the key to count under.
   * Default: that address.
   */
  clientAddress?: (req: IncomingMessage, address: string) => string;
  /** Time for everything the server schedules; tests pass a fake one. Default: the system clock. */
  clock?: Clock;
  /** The relay listener, once the engine joins a cluster (see `RelayOptions`). */
  relay?: RelayOptions;
}

export interface ResolvedEngineOptions {
  path: string;
  pingInterval: number;
  pingTimeout: number;
  upgradeTimeout: number;
  maxHttpBufferSize: number;
  transports: TransportName[];
  allowUpgrades: boolean;
  allowRequest: AllowRequest | undefined;
  cors: CorsOptions | false;
  cookie: CookieOptions | false;
  perMessageDeflate: false | PerMessageDeflateOptions;
  httpCompression: false | { threshold: number };
  maxBufferedBytes: number;
  destroyUpgrade: boolean;
  destroyUpgradeTimeout: number;
  generateId: ((req: IncomingMessage) => string | Promise<string>) | undefined;
  allowedOrigins: AllowedOrigins | undefined;
  maxConnectionsPerIp: number;
  handshakeRate: HandshakeRate | false;
  clientAddress: (req: IncomingMessage) => string;
  /**
   * The client's address before `clientAddress` and the /64 grouping: the TCP peer's, or the
   * forwarded client's when the peer is one of `trustedProxies`. What a relaying node signs.
   */
  clientPeer: (req: IncomingMessage) => string;
  clock: Clock;
  relay: RelayOptions;
}

/**
 * The client's address: the TCP peer's, or with `trustedProxies` the forwarded client's.
 */
function resolveClientPeer(trustedProxies: readonly string[] | undefined): (req: IncomingMessage) => string {
  if (trustedProxies !== undefined && !Array.isArray(trustedProxies)) {
    throw new TuttiError("INVALID_OPTION", "trustedProxies must be a list of addresses or CIDR ranges");
  }
  if (trustedProxies === undefined || trustedProxies.length === 0) {
    return (req) => req.socket.remoteAddress ?? "";
  }
  const proxies = new TrustedProxies(trustedProxies);
  return (req) => proxies.clientOf(req);
}

/**
 * The resolved `clientAddress`: the client's address as its key (see `addressKey`). A custom
 * one is called with that key as its second argument, so it can refine it (group by tenant,
 * say) without redoing the proxy walk.
 */
function resolveClientAddress(
  opts: EngineOptions,
  peer: (req: IncomingMessage) => string,
): (req: IncomingMessage) => string {
  const address = (req: IncomingMessage): string => addressKey(peer(req));
  const custom = opts.clientAddress;
  if (custom === undefined) return address;
  return (req) => custom(req, address(req));
}

/** Checks the `relay` option (read when the engine joins a cluster). */
export function resolveRelayOptions(relay: RelayOptions | undefined): RelayOptions {
  if (relay === undefined) return {};
  if (typeof relay !== "object" || relay === null) throw new TuttiError("INVALID_OPTION", "relay must be an object");
  const port = relay.port;
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    throw new TuttiError("INVALID_OPTION", `relay.port must be a port number, got ${String(port)}`);
  }
  for (const key of ["host", "path", "advertise"] as const) {
    const value = relay[key];
    if (value !== undefined && (typeof value !== "string" || value === "")) {
      throw new TuttiError("INVALID_OPTION", `relay.${key} must be a non-empty string`);
    }
  }
  positive("relay.connectTimeout", relay.connectTimeout, 5000);
  return { ...relay };
}

/**
 * The key an address is counted under: IPv4 as it is, IPv6 as its /64 network (one subscriber
 * usually holds a whole /64, so a per-address limit on full IPv6 addresses would not limit
 * anyone), an IPv4-mapped IPv6 address as plain IPv4.
 */
export function addressKey(address: string): string {
  if (isIPv4(address) || !isIPv6(address)) return address;
  const plain = plainAddress(address);
  if (plain !== address) return plain;
  const zone = address.indexOf("%");
  const bare = zone === -1 ? address : address.slice(0, zone);
  const gap = bare.indexOf("::");
  let groups: string[];
  if (gap === -1) groups = bare.split(":");
  else {
    const head = gap === 0 ? [] : bare.slice(0, gap).split(":");
    const tail = bare.slice(gap + 2) === "" ? [] : bare.slice(gap + 2).split(":");
    // an embedded IPv4 tail takes two groups' room
    const tailGroups =
      tail.length > 0 && (tail[tail.length - 1] as string).includes(".") ? tail.length + 1 : tail.length;
    groups = [...head, ...new Array<string>(Math.max(0, 8 - head.length - tailGroups)).fill("0"), ...tail];
  }
  const prefix = groups.slice(0, 4).map((g) => Number.parseInt(g, 16).toString(16));
  return `${prefix.join(":")}::/64`;
}

// Sized from a reconnect storm: 10,000 official clients opened at once from 127.0.0.1 reach a
// 2-core machine within about 5 s (15 s when the machine is busy), so the burst alone takes the
// whole storm and a faster machine, which brings them sooner, needs no more. The sustained rate
// refills a storm's worth in 10 s. Behind a proxy, with `trustedProxies` set, lower them to what
// one user needs (docs/production.md).
const DEFAULT_MAX_CONNECTIONS_PER_IP = 20_000;
const DEFAULT_HANDSHAKE_RATE = { burst: 10_000, perSecond: 1000 } as const;

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new TuttiError("INVALID_OPTION", `${name} must be a finite number above 0, got ${String(value)}`);
  }
  return value;
}

export function resolveEngineOptions(opts: EngineOptions = {}): ResolvedEngineOptions {
  const rawPath = opts.path ?? "/socket.io/";
  const trimmed = rawPath.replace(/\/$/, "");
  const path = opts.addTrailingSlash === false ? trimmed : `${trimmed}/`;

  const transports = opts.transports ?? ["polling", "websocket"];
  for (const t of transports) {
    if (t !== "polling" && t !== "websocket") {
      throw new TuttiError("INVALID_OPTION", `unknown transport "${String(t)}"`);
    }
  }
  if (transports.length === 0) throw new TuttiError("INVALID_OPTION", "transports must not be empty");

  let cookie: CookieOptions | false = false;
  if (opts.cookie === true) cookie = {};
  else if (opts.cookie) cookie = opts.cookie;
  if (cookie) {
    cookie = { name: "io", path: "/", sameSite: "lax", ...cookie };
    if (cookie.httpOnly === undefined) cookie.httpOnly = cookie.path !== false;
  }

  let perMessageDeflate: false | PerMessageDeflateOptions = false;
  if (opts.perMessageDeflate === true) perMessageDeflate = { threshold: 1024 };
  else if (opts.perMessageDeflate) perMessageDeflate = { threshold: 1024, ...opts.perMessageDeflate };

  let httpCompression: false | { threshold: number } = { threshold: 1024 };
  if (opts.httpCompression === false) httpCompression = false;
  else if (typeof opts.httpCompression === "object") {
    httpCompression = { threshold: opts.httpCompression.threshold ?? 1024 };
  }

  const clientPeer = resolveClientPeer(opts.trustedProxies);
  return {
    path,
    pingInterval: positive("pingInterval", opts.pingInterval, 25_000),
    pingTimeout: positive("pingTimeout", opts.pingTimeout, 20_000),
    upgradeTimeout: positive("upgradeTimeout", opts.upgradeTimeout, 10_000),
    maxHttpBufferSize: positive("maxHttpBufferSize", opts.maxHttpBufferSize, 1e6),
    transports: [...transports],
    allowUpgrades: opts.allowUpgrades ?? true,
    allowRequest: opts.allowRequest,
    cors: opts.cors ?? false,
    cookie,
    perMessageDeflate,
    httpCompression,
    // 4 MiB: a client's own recovery replay (at most about 1 MiB) plus three times that of live
    // traffic while it reads it, never cut; a thousand stalled clients hold at most 4 GiB of
    // their own packets (shared broadcast frames are held once), a quarter of the former 16 MiB.
    maxBufferedBytes: positive("maxBufferedBytes", opts.maxBufferedBytes, 4 * 1024 * 1024),
    destroyUpgrade: opts.destroyUpgrade ?? true,
    destroyUpgradeTimeout: positive("destroyUpgradeTimeout", opts.destroyUpgradeTimeout, 1000),
    generateId: opts.generateId,
    allowedOrigins: opts.allowedOrigins,
    maxConnectionsPerIp:
      opts.maxConnectionsPerIp === Number.POSITIVE_INFINITY
        ? opts.maxConnectionsPerIp
        : positive("maxConnectionsPerIp", opts.maxConnectionsPerIp, DEFAULT_MAX_CONNECTIONS_PER_IP),
    handshakeRate:
      opts.handshakeRate === false
        ? false
        : {
            burst: positive("handshakeRate.burst", opts.handshakeRate?.burst, DEFAULT_HANDSHAKE_RATE.burst),
            perSecond: positive(
              "handshakeRate.perSecond",
              opts.handshakeRate?.perSecond,
              DEFAULT_HANDSHAKE_RATE.perSecond,
            ),
          },
    clientAddress: resolveClientAddress(opts, clientPeer),
    clientPeer,
    clock: opts.clock ?? systemClock,
    relay: resolveRelayOptions(opts.relay),
  };
}
