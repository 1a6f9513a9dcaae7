/**
 * Types for typed events, with socket.io's names: an app declares its events as a map of
 * listener signatures and every `emit`, `on` and ack is checked against it.
 *
 * `any` appears where an event map must accept any listener (DefaultEventsMap): a listener
 * `(name: string) => void` is not assignable to `(...args: unknown[]) => void`.
 */

import type { DisconnectReason } from "../errors.js";

// biome-ignore lint/suspicious/noExplicitAny: an event map holds listeners of any signature
export type AnyFunction = (...args: any[]) => any;

export interface EventsMap {
  // biome-ignore lint/suspicious/noExplicitAny: see the file comment
  [event: string]: any;
}

/**
 * `socket.data`'s type when an app declares none: any, socket.io's default, so an untyped app's
 * `socket.data.user = claims` in a middleware and `socket.data.user.id` in a handler compile.
 */
// biome-ignore lint/suspicious/noExplicitAny: see the file comment
export type DefaultSocketData = any;

/** The map used when an app declares no events: any name, any arguments. */
export interface DefaultEventsMap {
  // biome-ignore lint/suspicious/noExplicitAny: see the file comment
  [event: string]: (...args: any[]) => void;
}

export type EventNames<Map extends EventsMap> = keyof Map & (string | symbol);

export type EventParams<Map extends EventsMap, Ev extends EventNames<Map>> = Parameters<Map[Ev]>;

type IsAny<T> = 0 extends 1 & T ? true : false;

/** The last element of a tuple. */
export type Last<T extends readonly unknown[]> = T extends readonly [...unknown[], infer L]
  ? L
  : T extends readonly (infer E)[]
    ? E
    : never;

/** A tuple without its last element. */
// biome-ignore lint/suspicious/noExplicitAny: falls back to any[] for untyped maps, as socket.io does
export type AllButLast<T extends unknown[]> = T extends [...infer H, unknown] ? H : any[];

/** The first argument of an ack callback that is not the timeout error. */
export type FirstNonErrorArg<F> = F extends (...args: infer P) => unknown
  ? P extends [Error, ...infer Rest]
    ? Rest[0]
    : P[0]
  : // biome-ignore lint/suspicious/noExplicitAny: an untyped ack answers with anything
    any;

/** Events whose last parameter is an ack callback. */
export type EventNamesWithAck<Map extends EventsMap> = {
  [K in EventNames<Map>]: IsAny<Map[K]> extends true
    ? K
    : Parameters<Map[K]> extends []
      ? never
      : Last<Parameters<Map[K]>> extends AnyFunction
        ? K
        : never;
}[EventNames<Map>];

/** The ack callback of event `Ev`. */
export type AckOf<Map extends EventsMap, Ev extends EventNames<Map>> = Last<EventParams<Map, Ev>>;

type MapLast<P extends unknown[], F> = P extends [...infer H, infer L] ? (L extends AnyFunction ? [...H, F] : P) : P;

type WithTimeoutError<F> = F extends (...args: infer P) => infer R
  ? P extends [Error, ...unknown[]]
    ? F
    : (err: Error, ...args: P) => R
  : F;

type WithResponses<F> = F extends (...args: infer P) => infer R
  ? P extends [Error, ...infer Rest]
    ? (err: Error, responses: Rest[0][]) => R
    : (err: Error, responses: P[0][]) => R
  : F;

type LastOf<P extends unknown[]> = P extends [...unknown[], infer L] ? L : never;

/** Acks take the timeout error first: what `socket.timeout(ms)` passes to them. */
export type DecorateAcknowledgements<E extends EventsMap> = {
  [K in keyof E]: E[K] extends (...args: infer P) => infer R
    ? (...args: MapLast<P, WithTimeoutError<LastOf<P>>>) => R
    : E[K];
};

/**
 * Acks of a broadcast take the timeout error (or null) and every client's response:
 * `io.timeout(ms).emit("ev", (err, responses) => {})`.
 */
export type DecorateAcknowledgementsWithMultipleResponses<E extends EventsMap> = {
  [K in keyof E]: E[K] extends (...args: infer P) => infer R
    ? (...args: MapLast<P, WithResponses<LastOf<P>>>) => R
    : E[K];
};

/** Events every Socket emits to its own listeners. */
export interface SocketReservedEvents {
  disconnect: (reason: DisconnectReason, description?: unknown) => void;
  disconnecting: (reason: DisconnectReason, description?: unknown) => void;
  error: (err: Error) => void;
}

/** Why a socket disconnected (socket.io's reasons, plus "slow consumer"). */
export type { DisconnectReason } from "../errors.js";

/** Listener for a reserved or an app event; untyped names fall back to any arguments. */
export type ListenerOf<Reserved extends EventsMap, Listen extends EventsMap, Ev> = Ev extends keyof Reserved
  ? Reserved[Ev]
  : Ev extends keyof Listen
    ? Listen[Ev]
    : // biome-ignore lint/suspicious/noExplicitAny: an event outside both maps takes any arguments
      (...args: any[]) => void;
