import type { Adapter, Room, SocketId } from "../adapter/adapter.js";
import type { AckTable } from "./ack-table.js";
import { BroadcastOperator } from "./broadcast-operator.js";
import type { Handshake } from "./socket.js";
import type {
  DecorateAcknowledgementsWithMultipleResponses,
  DefaultEventsMap,
  DefaultSocketData,
  EventNames,
  EventParams,
  EventsMap,
} from "./typed-events.js";

/**
 * What a cluster adapter written for socket.io sends for a socket of another node in answer to
 * `fetchSockets` (socket.io-adapter's ClusterAdapter, socket.io-redis, the Mongo adapter): plain
 * data, rooms as an array.
 */
export interface RemoteSocketDetails<SocketData = DefaultSocketData> {
  readonly id: SocketId;
  readonly handshake: Handshake;
  readonly rooms: readonly Room[];
  readonly data: SocketData;
}

/** Whether `value` has the shape of `RemoteSocketDetails` (a socket of another node, not one of this node). */
export function isRemoteSocketDetails(value: unknown): value is RemoteSocketDetails {
  if (typeof value !== "object" || value === null) return false;
  const details = value as { id?: unknown; rooms?: unknown };
  return typeof details.id === "string" && Array.isArray(details.rooms);
}

/**
 * A socket of another node, as `fetchSockets()` returns it (socket.io's RemoteSocket): its data
 * as that node sent it, and the operations that reach it through the adapter, its own room as
 * the target. `emit` with an ack gets one response, as a socket's emit does.
 */
export class SioRemoteSocket<EmitEvents extends EventsMap = DefaultEventsMap, SocketData = DefaultSocketData> {
  readonly id: SocketId;
  readonly handshake: Handshake;
  readonly rooms: Set<Room>;
  readonly data: SocketData;
  readonly #operator: BroadcastOperator<EmitEvents, SocketData>;

  constructor(adapter: Adapter, details: RemoteSocketDetails<SocketData>, acks: AckTable) {
    this.id = details.id;
    this.handshake = details.handshake;
    this.rooms = new Set(details.rooms);
    this.data = details.data;
    this.#operator = new BroadcastOperator<EmitEvents, SocketData>(
      adapter,
      new Set([details.id]),
      new Set(),
      { expectSingleResponse: true },
      acks,
    );
  }

  /** The next emit's ack waits at most `ms`. */
  timeout(ms: number): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData> {
    return this.#operator.timeout(ms);
  }

  emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean {
    return this.#operator.emit(ev, ...args);
  }

  join(room: Room | readonly Room[]): void {
    this.#operator.socketsJoin(room);
  }

  leave(room: Room | readonly Room[]): void {
    this.#operator.socketsLeave(room);
  }

  /** Disconnects the socket; with `close`, its whole connection. */
  disconnect(close = false): this {
    this.#operator.disconnectSockets(close);
    return this;
  }
}
