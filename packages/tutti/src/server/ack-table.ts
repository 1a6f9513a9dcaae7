import type { SocketId } from "../adapter/adapter.js";
import type { Clock, ClockTimer } from "../clock.js";
import { TuttiError } from "../errors.js";

/** socket.io's message for an ack that did not come in time, on a socket's emit and on a broadcast alike. */
export const ACK_TIMEOUT_MESSAGE = "operation has timed out";

/** How one socket's ack ends: the client's answer (`err` null), or an error (timed out, refused at the limit). */
export type AckOutcome = (err: Error | null, args: readonly unknown[]) => void;

/** How a broadcast's ack ends: every response (`err` null), or an error with the responses that did come. */
export type BroadcastAckOutcome = (err: Error | null, responses: unknown[]) => void;

/** A callback an adapter hands to `expectAck` that the table did not create: called with the client's ack arguments. */
type AdapterAck = (...args: unknown[]) => void;

type Entry = SocketAck | BroadcastAck | AdapterAck;

/** At the limit, the caller's callback gets an error worded as socket.io's timeout, with a code to tell the two apart. */
function limitError(): TuttiError {
  return new TuttiError("ACK_LIMIT_EXCEEDED", ACK_TIMEOUT_MESSAGE);
}

function timeoutError(): Error {
  return new Error(ACK_TIMEOUT_MESSAGE);
}

/**
 * Every ack the server awaits from its clients, one table per server: a socket's own emits, the
 * recipients of a broadcast, and the acks an adapter registers. It allocates ack ids, counts
 * what each socket awaits against `maxPendingAcks`, runs the timeouts on the injected clock and
 * forgets a socket's acks when it goes.
 *
 * Guarantees, as socket.io where it has a rule:
 * - a caller's callback is called at most once, never synchronously from the emit that set it up;
 * - at the limit, nothing is sent to that socket and the callback gets, on the next tick, the
 *   error a timeout gives (`"operation has timed out"`), with code ACK_LIMIT_EXCEEDED;
 * - a late or unknown ack is ignored;
 * - when a socket disconnects its entries are freed at once; an ack with a timeout still gets
 *   its timeout error when the timeout runs out, one without is never called (socket.io keeps
 *   both kinds of callback and never calls them on disconnect either).
 */
export class AckTable {
  /** The most acks one socket may await at once (`maxPendingAcks`). */
  readonly limit: number;
  readonly #clock: () => Clock;
  #nextId = 0;
  /** Socket → its pending acks by id. A socket with none has no entry: idle sockets cost nothing here. */
  readonly #bySocket = new Map<SocketId, Map<number, Entry>>();
  /** The response collectors this table created for broadcasts, so a recipient's entry reaches its broadcast. */
  readonly #broadcasts = new WeakMap<AdapterAck, BroadcastAck>();

  /** `clock` is read when a timer is set: the engine, and with it the server's clock, may come after the table. */
  constructor(limit: number, clock: () => Clock) {
    this.limit = limit;
    this.#clock = clock;
  }

  get clock(): Clock {
    return this.#clock();
  }

  /** Sockets that await at least one ack (0 once every ack is answered, timed out or dropped). */
  get size(): number {
    return this.#bySocket.size;
  }

  /** A fresh ack id. Ids are unique within the server, so within each socket. */
  nextId(): number {
    const id = this.#nextId;
    // ack ids stay small integers on the wire; wrap long before precision is at stake
    this.#nextId = id >= 0x7fffffff ? 0 : id + 1;
    return id;
  }

  /** Acks `socket` awaits now. */
  pending(socket: SocketId): number {
    return this.#bySocket.get(socket)?.size ?? 0;
  }

  /** Whether `socket` awaits the ack `id`. */
  awaits(socket: SocketId, id: number): boolean {
    return this.#bySocket.get(socket)?.has(id) === true;
  }

  /**
   * An emit to one socket asks for an ack. Returns the id to send with the packet, or
   * undefined when the socket is at the limit: the packet must not be sent, and `outcome`
   * gets the limit error on the next tick.
   */
  expectOne(socket: SocketId, outcome: AckOutcome, timeout: number | undefined): number | undefined {
    const entries = this.#entries(socket);
    if (entries === undefined) {
      process.nextTick(outcome, limitError(), []);
      return undefined;
    }
    const id = this.nextId();
    const ack = new SocketAck(outcome);
    if (timeout !== undefined) ack.timer = this.clock.setTimeout(() => this.#expire(socket, id, ack), timeout);
    entries.set(id, ack);
    return id;
  }

  /**
   * An emit asks for an ack from a socket that has disconnected: no answer can come. As in
   * socket.io, a timeout still ends it with the timeout error, and without one it never ends.
   */
  lost(outcome: AckOutcome, timeout: number | undefined): void {
    if (timeout !== undefined) this.clock.setTimeout(() => outcome(timeoutError(), []), timeout);
  }

  /**
   * A broadcast asks for acks. Give the adapter `onClientCount` and `onResponse` (unchanged:
   * the table knows its recipients by that function) and `setServerCount` the cluster's size.
   */
  broadcast(outcome: BroadcastAckOutcome, timeout: number | undefined): BroadcastAck {
    const request = new BroadcastAck(this, outcome);
    this.#broadcasts.set(request.onResponse, request);
    if (timeout !== undefined) request.startTimer(timeout);
    return request;
  }

  /**
   * The adapter asks `socket` for the ack `id`, the answer going to `callback`. Returns false
   * when the socket must not be sent the packet: it is at the limit (a broadcast it belongs to
   * then fails at once), or its broadcast has already ended.
   */
  expect(socket: SocketId, id: number, callback: AdapterAck): boolean {
    const request = this.#broadcasts.get(callback);
    if (request !== undefined && !request.accepting) return false;
    const entries = this.#entries(socket);
    if (entries === undefined) {
      request?.refuse();
      return false;
    }
    if (request === undefined) entries.set(id, callback);
    else {
      entries.set(id, request);
      request.addRecipient(socket, id);
    }
    return true;
  }

  /** The client of `socket` answered the ack `id` with `args`. */
  answer(socket: SocketId, id: number, args: unknown[]): void {
    const entry = this.#bySocket.get(socket)?.get(id);
    if (entry === undefined) return;
    this.release(socket, id, entry);
    if (entry instanceof SocketAck) {
      this.clock.clearTimeout(entry.timer);
      entry.outcome(null, args);
    } else if (entry instanceof BroadcastAck) entry.respond(args[0]);
    else entry(...args);
  }

  /** Forgets the ack `id` of `socket` without calling anyone (an adapter's cancel). */
  cancel(socket: SocketId, id: number): void {
    const entry = this.#bySocket.get(socket)?.get(id);
    if (entry === undefined) return;
    this.release(socket, id, entry);
    if (entry instanceof SocketAck) this.clock.clearTimeout(entry.timer);
  }

  /** `socket` disconnected: its entries go (see the class comment for what their callers get). */
  drop(socket: SocketId): void {
    this.#bySocket.delete(socket);
  }

  /** Removes the ack `id` of `socket` if it is still `entry`. For the table's own entries. */
  release(socket: SocketId, id: number, entry: Entry): void {
    const entries = this.#bySocket.get(socket);
    if (entries === undefined || entries.get(id) !== entry) return;
    entries.delete(id);
    if (entries.size === 0) this.#bySocket.delete(socket);
  }

  /** The entries of `socket`, created if need be; undefined when it is at the limit. */
  #entries(socket: SocketId): Map<number, Entry> | undefined {
    let entries = this.#bySocket.get(socket);
    if (entries === undefined) {
      if (this.limit <= 0) return undefined;
      entries = new Map();
      this.#bySocket.set(socket, entries);
    } else if (entries.size >= this.limit) return undefined;
    return entries;
  }

  #expire(socket: SocketId, id: number, ack: SocketAck): void {
    this.release(socket, id, ack);
    ack.outcome(timeoutError(), []);
  }
}

/** One socket's emit awaiting its ack. */
class SocketAck {
  readonly outcome: AckOutcome;
  timer: ClockTimer | undefined;

  constructor(outcome: AckOutcome) {
    this.outcome = outcome;
  }
}

enum BroadcastState {
  /** Waiting for responses; recipients may still be added. */
  Open = 0,
  /** A recipient was at its limit: recipients asked meanwhile still get the packet, and the error goes out on the next tick. */
  Refused = 1,
  Done = 2,
}

/**
 * One broadcast's acks: one caller, many recipients. It ends when every node has reported how
 * many of its sockets it asked and that many responses have come, when the timeout runs out
 * (the error carries the responses that came), or at once when a recipient is at its limit.
 * The expected count may grow after the emit: a cluster adapter reports other nodes' counts as
 * they arrive (socket.io's `clientCountCallback`).
 */
export class BroadcastAck {
  readonly #table: AckTable;
  readonly #outcome: BroadcastAckOutcome;
  readonly #responses: unknown[] = [];
  /** This node's recipients, as socket and ack id (each child of a dynamic namespace has its own id). */
  #sockets: SocketId[] = [];
  #ids: number[] = [];
  #expectedServers = -1;
  #answeredServers = 0;
  #expectedClients = 0;
  #timer: ClockTimer | undefined;
  #state = BroadcastState.Open;

  /** For the adapter's `clientCountCallback`: a node asked `count` of its sockets (once per node). */
  readonly onClientCount = (count: number): void => {
    this.#expectedClients += count;
    this.#answeredServers++;
    this.#check();
  };

  /** For the adapter's `ack`: one client's response. */
  readonly onResponse = (response: unknown): void => {
    this.respond(response);
  };

  constructor(table: AckTable, outcome: BroadcastAckOutcome) {
    this.#table = table;
    this.#outcome = outcome;
  }

  /** Whether a recipient may still be asked: false once the broadcast has ended. */
  get accepting(): boolean {
    return this.#state !== BroadcastState.Done;
  }

  /** The number of nodes in the cluster (`adapter.serverCount()`), this one included. */
  setServerCount(count: number): void {
    this.#expectedServers = count;
    this.#check();
  }

  startTimer(timeout: number): void {
    this.#timer = this.#table.clock.setTimeout(() => {
      if (this.#state === BroadcastState.Open) this.#finish(timeoutError());
    }, timeout);
  }

  addRecipient(socket: SocketId, id: number): void {
    this.#sockets.push(socket);
    this.#ids.push(id);
  }

  respond(response: unknown): void {
    if (this.#state !== BroadcastState.Open) return;
    this.#responses.push(response);
    this.#check();
  }

  /** A recipient is at its limit: the broadcast cannot complete, so it fails now rather than at its timeout. */
  refuse(): void {
    if (this.#state !== BroadcastState.Open) return;
    this.#state = BroadcastState.Refused;
    // after the adapter's loop: the recipients it asks meanwhile are released with the others
    process.nextTick(() => this.#finish(limitError()));
  }

  #check(): void {
    if (
      this.#state === BroadcastState.Open &&
      this.#expectedServers === this.#answeredServers &&
      this.#responses.length === this.#expectedClients
    ) {
      this.#finish(null);
    }
  }

  #finish(err: Error | null): void {
    this.#state = BroadcastState.Done;
    this.#table.clock.clearTimeout(this.#timer);
    // the recipients that have not answered are forgotten: a late answer is ignored
    const sockets = this.#sockets;
    const ids = this.#ids;
    this.#sockets = [];
    this.#ids = [];
    for (let i = 0; i < sockets.length; i++) this.#table.release(sockets[i] as SocketId, ids[i] as number, this);
    this.#outcome(err, this.#responses);
  }
}
