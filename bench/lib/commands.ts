import type { HistogramData } from "./histogram.js";

/** What a target server reports once it listens. */
export interface ServerReady {
  port: number;
  pid: number;
  /** What was loaded, e.g. the file "tutti" resolved to, so a stale build is visible. */
  impl: string;
}

/** Bytes held by a server process after a full garbage collection. */
export interface MemSample {
  rss: number;
  heapUsed: number;
  /** Memory outside the V8 heap held by JavaScript objects (Buffers' backing stores among it). */
  external: number;
  /** V8 heap committed (used or not). */
  heapTotal: number;
}

export interface PublishArgs {
  room: string;
  count: number;
  /** Messages broadcast per event-loop turn before yielding with setImmediate. */
  burst: number;
  /** Payload size of each message. */
  bytes: number;
}

type NoArgs = Record<string, never>;

export type ServerCommands = {
  mem: { args: NoArgs; result: MemSample };
  publish: { args: PublishArgs; result: { published: number } };
  /** Engine.IO sessions (raw ws: connections) the server holds now. */
  clients: { args: NoArgs; result: { clients: number } };
};

export type Transport = "websocket" | "polling";

export interface ConnectArgs {
  port: number;
  transport: Transport;
  count: number;
  /** Global index of this generator's first client: client i joins room `room-${i % rooms}`. */
  firstIndex: number;
  /** Rooms to spread the clients over; 0 joins none. */
  rooms: number;
}

/** What one load generator saw during a measured window. */
export interface WindowResult {
  /** Messages received, acks received or handshakes completed, by workload. */
  events: number;
  latency: HistogramData;
  /** Clients that failed during the window (closed, errored, refused). */
  errors: number;
}

export type LoadCommands = {
  connect: { args: ConnectArgs; result: { connected: number } };
  /** Starts a measured window: zeroes the counters and the latency histogram. */
  reset: { args: NoArgs; result: null };
  /** Resolves once every client has received `perClient` messages since the last reset. */
  awaitMessages: { args: { perClient: number }; result: WindowResult };
  echo: { args: { durationMs: number; bytes: number }; result: WindowResult };
  chat: { args: { durationMs: number; perSecond: number; bytes: number }; result: WindowResult };
  handshakeLoop: { args: { port: number; durationMs: number; concurrency: number }; result: WindowResult };
  /**
   * Pauses the TCP sockets of this generator's last `count` clients: they stop reading, as a
   * stalled client does. They are left out of `awaitMessages`, and their loss is not an error.
   */
  stall: { args: { count: number }; result: { stalled: number } };
  disconnect: { args: NoArgs; result: null };
};

export const ROOM_PREFIX = "room-";
