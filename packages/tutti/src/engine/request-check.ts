import type { IncomingMessage } from "node:http";
import type { ErrorCode } from "../errors.js";
import type { EngineSession } from "./engine-session.js";
import type { ResolvedEngineOptions, TransportName } from "./options.js";

export type Query = Record<string, string>;

/** Why a request is refused: the error code, an optional message, and which check failed. */
export interface Refusal {
  code: ErrorCode;
  message?: string | undefined;
  context: Record<string, unknown>;
}

/**
 * The request's query, parsed once per request: the engine's own view (the first value of a
 * repeated key, on a null-prototype object) is returned, and engine.io's `req._query` is set for
 * the middlewares and apps (a plain object, the last value of a repeated key winning; one already
 * there, set by connect's query parser say, is left as it is).
 */
export function readQuery(req: IncomingMessage): Query {
  const url = req.url ?? "";
  const mark = url.indexOf("?");
  const params = new URLSearchParams(mark === -1 ? "" : url.slice(mark + 1));
  const exposed = req as IncomingMessage & { _query?: Record<string, string> };
  if (exposed._query === undefined) exposed._query = Object.fromEntries(params);
  const query: Query = Object.create(null);
  for (const [key, value] of params) {
    if (!(key in query)) query[key] = value;
  }
  return query;
}

// RFC 7230 field-value characters; an Origin outside them is refused, as engine.io does.
const INVALID_HEADER_CHAR = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * The `allowedOrigins` check, made first on every request and upgrade (before CORS, the
 * middlewares and the protocol's checks). A request without an Origin header is let through:
 * it does not come from a browser.
 */
export function checkAllowedOrigin(opts: ResolvedEngineOptions, req: IncomingMessage): Refusal | undefined {
  const allowed = opts.allowedOrigins;
  const origin = req.headers.origin;
  if (allowed === undefined || origin === undefined) return undefined;
  let ok: boolean;
  try {
    ok = typeof allowed === "function" ? allowed(origin, req) === true : allowed.includes(origin);
  } catch (error) {
    return { code: "ORIGIN_NOT_ALLOWED", context: { origin, error } };
  }
  return ok ? undefined : { code: "ORIGIN_NOT_ALLOWED", context: { origin } };
}

/**
 * The protocol's checks on an engine request, in order: transport, protocol version, Origin
 * characters, then for a session its existence and transport, and for a handshake its method and
 * transport. `session` is the open session of the request's sid, looked up once by the caller.
 * Returns the refusal, or undefined when the request may proceed.
 */
export function checkRequest(
  opts: ResolvedEngineOptions,
  req: IncomingMessage,
  query: Query,
  upgrade: boolean,
  closed: boolean,
  session: EngineSession | undefined,
): Refusal | undefined {
  const transport = query.transport;
  if (transport === undefined || !opts.transports.includes(transport as TransportName)) {
    return { code: "TRANSPORT_UNKNOWN", context: { transport } };
  }
  if (query.EIO !== "4") {
    // engine.io reports the version as a number; anything not a number is reported as given.
    const protocol = query.EIO !== undefined && /^\d+$/.test(query.EIO) ? Number(query.EIO) : query.EIO;
    return { code: "UNSUPPORTED_PROTOCOL_VERSION", context: { protocol } };
  }
  const origin = req.headers.origin;
  if (origin !== undefined && INVALID_HEADER_CHAR.test(origin)) {
    return { code: "BAD_REQUEST", context: { name: "INVALID_ORIGIN", origin } };
  }
  if (closed) return { code: "BAD_REQUEST", context: { name: "SERVER_CLOSED" } };
  const sid = query.sid;
  if (sid !== undefined) {
    if (session === undefined) return { code: "SESSION_ID_UNKNOWN", context: { sid } };
    if (!upgrade && session.transport.name !== transport) {
      const previousTransport = session.transport.name;
      return { code: "BAD_REQUEST", context: { name: "TRANSPORT_MISMATCH", transport, previousTransport } };
    }
    // A WebSocket for a session that is upgrading, upgraded or otherwise past upgrading is let
    // through here: as engine.io does, the WebSocket handshake completes and the socket is then
    // closed (see EngineSession.upgradeTo), which a client sees as a close, not an HTTP error.
    if (upgrade && (transport !== "websocket" || !opts.allowUpgrades)) {
      return { code: "BAD_REQUEST", context: { name: "UPGRADE_REFUSED" } };
    }
    return undefined;
  }
  if (req.method !== "GET") return { code: "BAD_HANDSHAKE_METHOD", context: { method: req.method } };
  if ((transport === "websocket") !== upgrade) {
    return { code: "BAD_REQUEST", context: { name: "TRANSPORT_HANDSHAKE_ERROR" } };
  }
  return undefined;
}
