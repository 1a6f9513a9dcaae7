import type { EnginePacket } from "../protocol/engine-packet.js";
import type { TransportName } from "./options.js";
import type { PreparedMessage } from "./prepared-message.js";

/** A packet waiting in a session's outgoing queue. */
export interface QueuedPacket {
  readonly packet: EnginePacket;
  /** Bytes the packet takes on the wire, counted against the session's buffer limit. */
  readonly size: number;
  readonly compress: boolean;
  /** Called once the packet has been written to the transport. */
  readonly callback?: (() => void) | undefined;
  /** Set when the packet was encoded once for many sessions: transports reuse its wire forms. */
  readonly prepared?: PreparedMessage | undefined;
}

/** What a transport reports to the session that owns it. Each call may come at most once per event. */
export interface TransportHandler {
  onPacket(packet: EnginePacket): void;
  /** The client sent something that does not decode. */
  onParseError(description: string): void;
  /** The transport failed (overlapping requests, aborted request, socket error). */
  onTransportError(description: string): void;
  /** The client closed the transport. */
  onTransportClose(description: string): void;
  /** The transport can take packets again (a polling GET arrived, a socket drained). */
  onWritable(): void;
}

/**
 * How a transport is closed:
 * - "server": the server ends the session (polling answers a pending GET with a close packet);
 * - "client": the client asked for it (a pending GET gets a noop);
 * - "error": the transport is dropped at once.
 */
export type CloseMode = "server" | "client" | "error";

/**
 * A transport moves packets between one client and its session. It holds no queue of its own
 * beyond what the socket or the pending HTTP response holds: the session owns the queue.
 */
export interface Transport {
  readonly name: TransportName;
  handler: TransportHandler;
  /**
   * True when `send` writes now: there is somewhere to write, and what was written before has
   * been taken (else the transport calls `onWritable` once it has).
   */
  readonly writable: boolean;
  /** Bytes handed to the socket and not yet written. */
  readonly bufferedAmount: number;
  /**
   * The most bytes of queued packets the session hands to `send` at once (one packet always goes,
   * whatever its size). The rest waits in the session's queue until `writable` again, so what the
   * transport copies per client stays bounded whatever the burst.
   */
  readonly batchBytes: number;
  /** Writes packets; the caller checked `writable`. */
  send(packets: readonly QueuedPacket[]): void;
  close(mode: CloseMode): void;
}
