import { EventEmitter } from "node:events";
import type { Adapter, BroadcastFlags, BroadcastOptions, Room, SocketId } from "../adapter/adapter.js";
import type { RemoteSocketDetails } from "../adapter/cluster-adapter.js";
import { systemClock } from "../clock.js";
import { RESERVED_EVENTS, SocketPacketType } from "../protocol/socket-packet.js";
import { AckTable } from "./ack-table.js";
import type { Handshake, Socket } from "./socket.js";
import type {
  AllButLast,
  DecorateAcknowledgements,
  DecorateAcknowledgementsWithMultipleResponses,
  DefaultEventsMap,
  DefaultSocketData,
  EventNames,
  EventNamesWithAck,
  EventParams,
  EventsMap,
  FirstNonErrorArg,
  Last,
} from "./typed-events.js";

/**
 * A socket on another node, as `fetchSockets()` returns it (socket.io's RemoteSocket): its id,
 * handshake, rooms and data as they were when it answered, and operations that reach it wherever
 * it is. Sockets of this node come as themselves.
 */
export class RemoteSocket<EmitEvents extends EventsMap, SocketData> {
  readonly id: SocketId;
  readonly handshake: Handshake;
  readonly rooms: Set<Room>;
  readonly data: SocketData;
  readonly #operator: BroadcastOperator<EmitEvents, SocketData>;

  constructor(adapter: Adapter, details: RemoteSocketDetails, acks?: AckTable) {
    this.id = details.id;
    this.handshake = details.handshake as Handshake;
    this.rooms = new Set(details.rooms);
    this.data = details.data as SocketData;
    this.#operator = new BroadcastOperator<EmitEvents, SocketData>(
      adapter,
      new Set([this.id]),
      new Set(),
      { expectSingleResponse: true },
      acks,
    );
  }

  emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean {
    return this.#operator.emit(ev, ...args);
  }

  /** The ack waits at most `ms` (then an error); `emitWithAck` resolves with the client's one response. */
  timeout(ms: number): BroadcastOperator<DecorateAcknowledgements<EmitEvents>, SocketData> {
    return this.#operator.timeout(ms) as unknown as BroadcastOperator<DecorateAcknowledgements<EmitEvents>, SocketData>;
  }

  join(room: Room | readonly Room[]): void {
    this.#operator.socketsJoin(room);
  }

  leave(room: Room | readonly Room[]): void {
    this.#operator.socketsLeave(room);
  }

  disconnect(close = false): this {
    this.#operator.disconnectSockets(close);
    return this;
  }
}

/**
 * The error a broadcast ack gets on timeout; `responses` holds the acks that did arrive. When a
 * recipient was at `maxPendingAcks` it is a `TuttiError` with code ACK_LIMIT_EXCEEDED.
 */
export interface BroadcastTimeoutError extends Error {
  responses?: unknown[];
}

function toSet(rooms: Room | readonly Room[]): Room[] {
  return typeof rooms === "string" ? [rooms] : [...rooms];
}

/**
 * A broadcast under construction: rooms to reach, rooms to skip, and flags. Each operator call
 * returns a new operator, so one can be kept and reused (socket.io's BroadcastOperator).
 */
export class BroadcastOperator<EmitEvents extends EventsMap = DefaultEventsMap, SocketData = DefaultSocketData> {
  readonly #adapter: Adapter<Socket<DefaultEventsMap, EmitEvents, DefaultEventsMap, SocketData>>;
  readonly #rooms: ReadonlySet<Room>;
  readonly #except: ReadonlySet<Room>;
  readonly #flags: BroadcastFlags;
  #acks: AckTable | undefined;

  /** `acks` is the server's ack table; an operator built without one keeps its own, unlimited. */
  constructor(
    adapter: Adapter,
    rooms: ReadonlySet<Room> = new Set(),
    except: ReadonlySet<Room> = new Set(),
    flags: BroadcastFlags = {},
    acks?: AckTable,
  ) {
    this.#adapter = adapter as unknown as Adapter<Socket<DefaultEventsMap, EmitEvents, DefaultEventsMap, SocketData>>;
    this.#rooms = rooms;
    this.#except = except;
    this.#flags = flags;
    this.#acks = acks;
  }

  #with(rooms: ReadonlySet<Room>, except: ReadonlySet<Room>, flags: BroadcastFlags) {
    return new BroadcastOperator<EmitEvents, SocketData>(
      this.#adapter as unknown as Adapter,
      rooms,
      except,
      flags,
      this.#acks,
    );
  }

  /** Targets the sockets in `room` (or in any of the rooms). Calls add up. */
  to(room: Room | readonly Room[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.#with(new Set([...this.#rooms, ...toSet(room)]), this.#except, this.#flags);
  }

  in(room: Room | readonly Room[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.to(room);
  }

  /** Skips the sockets in `room` (or in any of the rooms). */
  except(room: Room | readonly Room[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.#with(this.#rooms, new Set([...this.#except, ...toSet(room)]), this.#flags);
  }

  compress(compress: boolean): BroadcastOperator<EmitEvents, SocketData> {
    return this.#with(this.#rooms, this.#except, { ...this.#flags, compress });
  }

  /** Drops the packet for each recipient whose transport cannot take it now. */
  get volatile(): BroadcastOperator<EmitEvents, SocketData> {
    return this.#with(this.#rooms, this.#except, { ...this.#flags, volatile: true });
  }

  /** Reaches the sockets of this node only. */
  get local(): BroadcastOperator<EmitEvents, SocketData> {
    return this.#with(this.#rooms, this.#except, { ...this.#flags, local: true });
  }

  /** Acks wait at most `ms`; then the callback gets an error and the responses that arrived. */
  timeout(ms: number): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData> {
    return new BroadcastOperator(
      this.#adapter as unknown as Adapter,
      this.#rooms,
      this.#except,
      { ...this.#flags, timeout: ms },
      this.#acks,
    );
  }

  #options(): BroadcastOptions {
    return { rooms: this.#rooms, except: this.#except, flags: this.#flags };
  }

  /**
   * Emits to every target, encoded once. With a function as last argument, it is called as
   * `(err, responses)` once every target has answered, or with an error when `timeout()` runs
   * out first. A target already awaiting `maxPendingAcks` acks is not sent the event, and the
   * function gets at once (next tick) the timeout's error with code ACK_LIMIT_EXCEEDED; the
   * others are sent it, and their answers are ignored.
   */
  emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean {
    if (typeof ev === "string" && RESERVED_EVENTS.has(ev)) throw new Error(`"${ev}" is a reserved event name`);
    const data: unknown[] = [ev, ...args];
    const last = data[data.length - 1];
    if (typeof last !== "function") {
      this.#adapter.broadcast({ type: SocketPacketType.EVENT, data }, this.#options());
      return true;
    }
    data.pop();
    this.#emitWithAckCallback(data, last as (err: Error | null, responses: unknown) => void);
    return true;
  }

  #emitWithAckCallback(data: unknown[], ack: (err: Error | null, responses: unknown) => void): void {
    const single = this.#flags.expectSingleResponse === true;
    this.#acks ??= new AckTable(Number.POSITIVE_INFINITY, () => systemClock);
    const request = this.#acks.broadcast((err, responses) => {
      ack.call(this, err, single ? (err ? null : responses[0]) : responses);
    }, this.#flags.timeout);
    // the returned cancel is not needed: the ack table knows the recipients and forgets them at the end
    this.#adapter.broadcastWithAck(
      { type: SocketPacketType.EVENT, data },
      this.#options(),
      request.onClientCount,
      request.onResponse,
    );
    this.#adapter.serverCount().then((count) => request.setServerCount(count));
  }

  /** Emits and resolves with every target's response; rejects on timeout, the error carrying `responses`. */
  emitWithAck<Ev extends EventNamesWithAck<EmitEvents>>(
    ev: Ev,
    ...args: AllButLast<EventParams<EmitEvents, Ev>>
  ): Promise<FirstNonErrorArg<Last<EventParams<EmitEvents, Ev>>>> {
    return new Promise((resolve, reject) => {
      const callback = (err: BroadcastTimeoutError | null, responses: unknown): void => {
        if (err) {
          err.responses = responses as unknown[];
          reject(err);
        } else {
          resolve(responses as FirstNonErrorArg<Last<EventParams<EmitEvents, Ev>>>);
        }
      };
      (this.emit as (ev: unknown, ...rest: unknown[]) => boolean)(ev, ...args, callback);
    });
  }

  /** Ids of the targeted sockets. Deprecated in socket.io in favour of `fetchSockets()`. */
  allSockets(): Promise<Set<SocketId>> {
    return this.#adapter.fetchSockets(this.#options()).then((sockets) => new Set(sockets.map((socket) => socket.id)));
  }

  /** The targeted sockets. */
  fetchSockets(): Promise<RemoteSocket<EmitEvents, SocketData>[]> {
    const adapter = this.#adapter as unknown as Adapter;
    return adapter.fetchSockets(this.#options()).then((sockets) =>
      sockets.map((socket) =>
        // this node's sockets come as themselves, another node's as their details
        socket instanceof EventEmitter
          ? (socket as unknown as RemoteSocket<EmitEvents, SocketData>)
          : new RemoteSocket<EmitEvents, SocketData>(adapter, socket as unknown as RemoteSocketDetails, this.#acks),
      ),
    );
  }

  /** Makes the targeted sockets join `room`. */
  socketsJoin(room: Room | readonly Room[]): void {
    this.#adapter.addSockets(this.#options(), toSet(room));
  }

  /** Makes the targeted sockets leave `room`. */
  socketsLeave(room: Room | readonly Room[]): void {
    this.#adapter.delSockets(this.#options(), toSet(room));
  }

  /** Disconnects the targeted sockets; with `close`, their whole connections. */
  disconnectSockets(close = false): void {
    this.#adapter.disconnectSockets(this.#options(), close);
  }
}
