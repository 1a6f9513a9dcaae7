// The compatibility layer for adapters written for socket.io (on socket.io-adapter): the
// Postgres, Mongo and cluster adapters, the old socket.io-redis, @socket.io/redis-adapter. They
// extend socket.io-adapter's in-memory Adapter and reach into socket.io's objects; what they use
// of the server, namespace, socket and client is provided there under socket.io's names (each
// marked "socket.io-adapter" in server.ts, namespace.ts, socket.ts and client.ts). What this file
// adds: the check made when such an adapter is created (io.adapter() refuses what cannot work,
// with a TuttiError ADAPTER_NOT_SUPPORTED naming it and what to use instead), and the members
// they lack or return in socket.io's raw form.
import { Adapter, type AdapterConstructor, type BroadcastOptions } from "../adapter/adapter.js";
import { TuttiError } from "../errors.js";
import type { SocketPacket } from "../protocol/socket-packet.js";
import type { AckTable } from "./ack-table.js";
import type { Client } from "./client.js";

/** Where an app should go when its socket.io adapter cannot do what it asked. */
const INSTEAD =
  "use an adapter on socket.io-adapter 2.5 (@socket.io/redis-adapter, @socket.io/postgres-adapter, " +
  "@socket.io/cluster-adapter) or Tutti's own; docs/adapters.md lists what works";

/** What the compatibility layer needs of a namespace (the server's `Namespace`). */
export interface CompatNamespace {
  readonly name: string;
  readonly server: { readonly ackTable: AckTable };
}

/** An adapter written for socket.io, as far as this layer looks at it. */
interface SocketIoAdapter {
  readonly rooms?: unknown;
  readonly constructor?: { readonly name?: string };
  fetchSockets?: (opts: BroadcastOptions) => Promise<unknown[]>;
  broadcastWithAck?: unknown;
  serverSideEmit?: unknown;
  close?: () => unknown;
  [method: string]: unknown;
}

/** The in-memory part every adapter must have: the socket and the namespace call these. */
const REQUIRED_METHODS = ["addAll", "del", "delAll", "broadcast", "socketRooms", "fetchSockets"] as const;

/** socket.io's `adapter.constructor.name`, or a description when there is none. */
function nameOf(adapter: SocketIoAdapter): string {
  const name = adapter.constructor?.name;
  return name !== undefined && name !== "" && name !== "Object" ? name : "the adapter";
}

/**
 * Creates the adapter of namespace `nsp`. Tutti's own adapters are taken as they are; one
 * written for socket.io is checked, refused with a TuttiError ADAPTER_NOT_SUPPORTED when it
 * cannot work on Tutti, and otherwise given what it lacks.
 */
export function createNamespaceAdapter(ctor: AdapterConstructor, nsp: CompatNamespace): Adapter {
  if (ctor === Adapter || ctor.prototype instanceof Adapter) return new ctor(nsp as never);
  let made: object;
  try {
    made = new ctor(nsp as never);
  } catch (err) {
    throw explainFailure(err, nsp) ?? err;
  }
  if (made instanceof Adapter) return made;
  return fitSocketIoAdapter(made as SocketIoAdapter, nsp);
}

/** A TuttiError for the failures of a socket.io adapter's constructor that are known to mean "cannot work here". */
function explainFailure(err: unknown, nsp: CompatNamespace): TuttiError | undefined {
  const message = err instanceof Error ? err.message : String(err);
  if (/process\.send/.test(message)) {
    return new TuttiError(
      "ADAPTER_NOT_SUPPORTED",
      `the adapter for namespace "${nsp.name}" failed: ${message}. @socket.io/cluster-adapter runs only in a ` +
        "node:cluster worker whose primary called its setupPrimary()",
      { cause: err },
    );
  }
  if (/maxDisconnectionDuration|connectionStateRecovery/.test(message)) {
    return new TuttiError(
      "ADAPTER_NOT_SUPPORTED",
      `the adapter for namespace "${nsp.name}" failed: ${message}. It needs connection state recovery ` +
        `(socket.io-adapter's SessionAwareAdapter), which Tutti does not do yet: ${INSTEAD}`,
      { cause: err },
    );
  }
  return undefined;
}

function refuse(adapter: SocketIoAdapter, nsp: CompatNamespace, why: string): never {
  try {
    // it may have subscribed to its broker already
    const closing = adapter.close?.();
    if (closing instanceof Promise) closing.catch(() => {});
  } catch {
    // refusing it is what matters
  }
  throw new TuttiError("ADAPTER_NOT_SUPPORTED", `${nameOf(adapter)} (namespace "${nsp.name}") ${why}: ${INSTEAD}`);
}

function fitSocketIoAdapter(adapter: SocketIoAdapter, nsp: CompatNamespace): Adapter {
  if (!(adapter.rooms instanceof Map)) {
    // socket.io-adapter 1.x keeps rooms in plain objects and encodes with a callback; its
    // adapters (socket.io-redis 5 and older) speak socket.io 2's protocol, which Tutti does not
    refuse(adapter, nsp, "is written for socket.io 2 (socket.io-adapter 1.x) and cannot work on Tutti");
  }
  for (const method of REQUIRED_METHODS) {
    if (typeof adapter[method] !== "function") {
      refuse(adapter, nsp, `has no ${method}() and so is not an adapter Tutti can use`);
    }
  }
  const name = nameOf(adapter);
  // socket.io-adapter before 2.3 (socket.io-redis 6) has no serverSideEmit, before 2.4 no
  // broadcastWithAck: socket.io fails there with "is not a function"; Tutti says what to do
  if (typeof adapter.broadcastWithAck !== "function") {
    adapter.broadcastWithAck = () => {
      throw new TuttiError(
        "ADAPTER_NOT_SUPPORTED",
        `${name} cannot broadcast with an ack (it is built on socket.io-adapter before 2.4, as socket.io-redis 6 is): ${INSTEAD}`,
      );
    };
  }
  if (typeof adapter.serverSideEmit !== "function") {
    adapter.serverSideEmit = () => {
      throw new TuttiError(
        "ADAPTER_NOT_SUPPORTED",
        `${name} cannot serverSideEmit (it is built on socket.io-adapter before 2.3, as socket.io-redis 6 is): ${INSTEAD}`,
      );
    };
  }
  return adapter as unknown as Adapter;
}

/** socket.io's options of `socket.packet`, as socket.io-adapter before 2.5 passes them. */
export interface SocketIoPacketOptions {
  /** `packet` is what the encoder returned (socket.io-adapter's broadcast), not a packet. */
  readonly preEncoded?: boolean;
  readonly volatile?: boolean;
  readonly compress?: boolean;
}

/**
 * socket.io's `socket.packet(packet, opts)`, which socket.io-adapter before 2.5 (socket.io-redis
 * 6) calls for each local recipient of a broadcast, with the encoder's output and `preEncoded`.
 * As in socket.io, the `onAnyOutgoing` listeners are not called on that path.
 */
export function writeSocketIoPacket(
  client: Client,
  nsp: string,
  packet: SocketPacket | ReadonlyArray<string | Buffer>,
  opts: SocketIoPacketOptions = {},
): void {
  if (opts.preEncoded === true) {
    client.writeToEngine(packet as ReadonlyArray<string | Buffer>, opts);
    return;
  }
  client.writePacket({ ...(packet as SocketPacket), nsp }, opts);
}
