import type { Clock } from "../clock.js";
import { type DisconnectReason, TuttiError } from "../errors.js";
import type { Event, EventsMap, ExtendedError, Socket } from "../server/index.js";
import { GuardError, type GuardRefusal } from "./guard-error.js";

/**
 * A guard is a namespace middleware (`io.use(guard)`, `io.of("/chat").use(guard)`) that may
 * also install a socket middleware on each socket it admits. It is generic so that it fits a
 * Server of any event maps and socket data.
 */
export type Guard = <
  ListenEvents extends EventsMap,
  EmitEvents extends EventsMap,
  ServerSideEvents extends EventsMap,
  SocketData,
>(
  socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
  next: (err?: ExtendedError) => void,
) => void;

/** The events the guards exchange with clients; the `tutti:` prefix is theirs. */
export const GuardEvents = {
  /** Client → server, with an ack: a fresh token for the `jwt` guard. */
  REFRESH: "tutti:refresh",
  /** Server → client: the token expires soon (`refreshWarning` before `exp`). */
  TOKEN_EXPIRING: "tutti:token-expiring",
  /** Server → client, right before a guard disconnects the socket: why. */
  DISCONNECT: "tutti:disconnect",
} as const;

/** The answer to a successful `tutti:refresh`. */
export interface RefreshAccepted {
  ok: true;
  /** The new token's `exp` (seconds since the epoch), when it has one. */
  exp?: number;
}

/**
 * What the guards emit to clients, for a typed client:
 * `const socket: Socket<GuardServerToClientEvents & MyEvents, GuardClientToServerEvents & MyEmits> = io(url)`.
 */
export interface GuardServerToClientEvents {
  "tutti:token-expiring": (info: { exp: number; expiresInMs: number }) => void;
  "tutti:disconnect": (info: GuardRefusal) => void;
}

/** What clients may emit to the guards. */
export interface GuardClientToServerEvents {
  "tutti:refresh": (token: string | { token: string }, ack: (result: RefreshAccepted | GuardRefusal) => void) => void;
}

/** The default socket view the guards work with: they only use the socket's untyped surface. */
export type AnySocket = Socket;

export function asSocket<L extends EventsMap, E extends EventsMap, S extends EventsMap, D>(
  socket: Socket<L, E, S, D>,
): AnySocket {
  return socket as unknown as AnySocket;
}

/** The clock of the socket's server (its engine's `clock` option): guards keep time by it, so a test's fake clock drives them. */
export function clockOf(socket: AnySocket): Clock {
  return socket.nsp.server.engine.opts.clock;
}

/** The ack function of an event, when the client asked for one (it is the event's last element). */
export function ackOf(event: Event): ((...args: unknown[]) => void) | undefined {
  const last = event[event.length - 1];
  return typeof last === "function" ? (last as (...args: unknown[]) => void) : undefined;
}

/**
 * Refuses an event: the handler never runs (`next()` is not called), the ack, if any, gets the
 * refusal, and the socket's "error" listeners, if any, get a `GuardError`.
 */
export function refuseEvent(
  socket: AnySocket,
  event: Event,
  next: (err?: Error) => void,
  refusal: GuardRefusal,
  cause?: unknown,
): void {
  ackOf(event)?.(refusal);
  // the Error (and its stack) is only built for an app that listens
  if (socket.listenerCount("error") > 0) next(new GuardError(refusal, cause === undefined ? undefined : { cause }));
}

/**
 * Tells the client why (`tutti:disconnect`), then disconnects the socket with `reason` (its
 * "disconnect" listeners get `description` too). With `closeConnection`, the whole underlying
 * connection is closed afterwards, with the client's other namespaces (as `disconnect(true)`
 * does): a new attempt then needs a new handshake. What was written before still reaches the
 * client: the engine delivers its queue before its close packet.
 */
export function guardDisconnect(
  socket: AnySocket,
  refusal: GuardRefusal,
  reason: DisconnectReason,
  options: { closeConnection?: boolean; description?: unknown } = {},
): void {
  if (!socket.connected) return;
  socket.emit(GuardEvents.DISCONNECT, refusal);
  socket.disconnectFor(reason, options.description);
  if (options.closeConnection === true) socket.client.disconnectAll();
}

/**
 * Hooks between guards, per socket. `jwt` calls `claimsChanged` after a refresh has replaced the
 * claims, so that `authorize` re-checks them; `rateLimit` registers a `strike` so that refusals
 * counted elsewhere (a `tutti:refresh` past its budget) count toward its disconnect.
 */
interface SocketHooks {
  claimsChanged?: Array<() => void | Promise<void>>;
  strike?: () => void;
}

const hooks = new WeakMap<AnySocket, SocketHooks>();

function hooksOf(socket: AnySocket): SocketHooks {
  let found = hooks.get(socket);
  if (found === undefined) {
    found = {};
    hooks.set(socket, found);
  }
  return found;
}

/** Runs `listener` each time another guard replaced the socket's claims. */
export function onClaimsChanged(socket: AnySocket, listener: () => void | Promise<void>): void {
  const entry = hooksOf(socket);
  entry.claimsChanged ??= [];
  entry.claimsChanged.push(listener);
}

/**
 * Tells the guards that the socket's claims were replaced; resolves once each listener is done.
 * A listener that throws or rejects is skipped (it must fail closed on its own).
 */
export async function claimsChanged(socket: AnySocket): Promise<void> {
  for (const listener of hooks.get(socket)?.claimsChanged ?? []) {
    if (!socket.connected) return;
    try {
      await listener();
    } catch {
      // a listener's own bug: the others still run
    }
  }
}

/** Registers the socket's strike counter (one per socket: the first `rateLimit` to admit it). */
export function setStrike(socket: AnySocket, strike: () => void): void {
  const entry = hooksOf(socket);
  entry.strike ??= strike;
}

/** Counts a refusal made outside `rateLimit` toward its disconnect, when it guards the socket. */
export function strike(socket: AnySocket): void {
  hooks.get(socket)?.strike?.();
}

/** The socket's claims, read from `socket.data[key]`. */
export function readData(socket: AnySocket, key: string): unknown {
  const data = socket.data;
  return typeof data === "object" && data !== null ? (data as Record<string, unknown>)[key] : undefined;
}

export function writeData(socket: AnySocket, key: string, value: unknown): void {
  if (typeof socket.data !== "object" || socket.data === null) socket.data = {};
  (socket.data as Record<string, unknown>)[key] = value;
}

export function invalidOption(guard: string, message: string): TuttiError {
  return new TuttiError("INVALID_OPTION", `${guard}: ${message}`);
}
