/**
 * A light Socket.IO client for generating load: main namespace only, no binary, no reconnection.
 * It decodes only what it must (the packet type, an ack id, the stamp at the start of a `msg`
 * payload) so that the generators cost less than the servers they measure.
 */
export interface LoadClient {
  /** Messages (`msg` events) received since the counters were last reset. */
  received: number;
  /** Called with the send stamp (µs) of each `msg` event, -1 when the payload carries none. */
  onMsg: (stamp: number) => void;
  /** Called once when the connection ends for any reason other than `close()`. */
  onLost: (reason: string) => void;
  /** Resolves once the Socket.IO CONNECT is acknowledged. */
  connect(): Promise<void>;
  /** Emits `event(...args)`; with `ack`, asks for an acknowledgement. */
  emit(event: string, args: readonly unknown[], ack?: () => void): void;
  /** Ends the session the way a leaving client does. */
  close(): void;
  /** Drops the connection at once: for tearing down thousands of clients after a run. */
  terminate(): void;
  /** Stops reading from the connection (its TCP socket paused), where the transport allows. */
  stall?(): void;
}

/** `msg` events start with these bytes after the "42" (EVENT without ack id): the stamp follows. */
export const MSG_PREFIX = '42["msg","';

export function encodeEvent(event: string, args: readonly unknown[], ackId: number): string {
  return `42${ackId >= 0 ? ackId : ""}${JSON.stringify([event, ...args])}`;
}

/** The ack id of an ACK packet ("43<id>[...]"), read from `offset`. */
export function readAckId(data: Buffer | string, offset: number): number {
  let id = 0;
  for (let i = offset; ; i++) {
    const c = typeof data === "string" ? data.charCodeAt(i) : data[i];
    if (c === undefined || Number.isNaN(c) || c < 48 || c > 57) return i === offset ? -1 : id;
    id = id * 10 + c - 48;
  }
}

/** Pending acks of one client, by id. */
export class AckTable {
  #next = 0;
  readonly #waiting = new Map<number, () => void>();

  register(ack: () => void): number {
    const id = this.#next++;
    this.#waiting.set(id, ack);
    return id;
  }

  settle(id: number): void {
    const ack = this.#waiting.get(id);
    if (!ack) return;
    this.#waiting.delete(id);
    ack();
  }
}
