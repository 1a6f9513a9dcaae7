import { IncomingMessage } from "node:http";
import { Socket } from "node:net";

// The own properties every IncomingMessage has; any other own property was set by a
// middleware (express-session's `session`, passport's `user`, ...).
// (`parser` is set by Node on upgrade requests, `_query` by the engine before its middlewares,
// as engine.io does; the snapshot keeps it.)
const BUILT_IN = new Set<string | symbol>([...Reflect.ownKeys(new IncomingMessage(new Socket())), "parser", "_query"]);

// Headers of the WebSocket handshake itself, of no use once it is done: dropped from the
// snapshot of a WebSocket handshake (several strings per idle connection). The subprotocol
// header stays: apps carry tokens in it.
const WEBSOCKET_HANDSHAKE_HEADERS = new Set([
  "connection",
  "upgrade",
  "sec-websocket-key",
  "sec-websocket-version",
  "sec-websocket-extensions",
]);

function keptHeaders(req: IncomingMessage): IncomingMessage["headers"] {
  const headers = req.headers;
  if (headers["sec-websocket-key"] === undefined) return headers;
  const kept: IncomingMessage["headers"] = {};
  for (const name of Object.keys(headers)) {
    if (!WEBSOCKET_HANDSHAKE_HEADERS.has(name)) kept[name] = headers[name];
  }
  return kept;
}

/**
 * What a session keeps of its handshake request. Usually a snapshot instead of the
 * IncomingMessage: method, url, headers (minus the WebSocket handshake's own), HTTP version,
 * the parsed query (`_query`, which apps read as `socket.request._query`) and the connection's
 * socket. It is an IncomingMessage by prototype, so `instanceof` and types
 * hold, but its stream state, raw headers and trailers are gone: a session held the whole
 * request for its lifetime only for those, about a kilobyte per connection (measured in bench/).
 *
 * When a middleware set something on the request (express-session's `session`, passport's
 * `user`), the request itself is kept: such objects hold on to the request they were made for
 * (a session's `reload()` assigns `req.session` there), and a copy would fall out of step.
 */
export function snapshotRequest(req: IncomingMessage): IncomingMessage {
  for (const key of Reflect.ownKeys(req)) if (!BUILT_IN.has(key)) return req;
  const snapshot = Object.create(IncomingMessage.prototype) as IncomingMessage;
  const kept: Record<string, unknown> = {
    method: req.method,
    url: req.url,
    headers: keptHeaders(req),
    httpVersion: req.httpVersion,
    httpVersionMajor: req.httpVersionMajor,
    httpVersionMinor: req.httpVersionMinor,
    socket: req.socket,
  };
  const query = (req as { _query?: unknown })._query;
  if (query !== undefined) kept._query = query;
  const fields: PropertyDescriptorMap = {};
  for (const [key, value] of Object.entries(kept)) {
    fields[key] = { value, writable: true, enumerable: true, configurable: true };
  }
  Object.defineProperties(snapshot, fields);
  return snapshot;
}
