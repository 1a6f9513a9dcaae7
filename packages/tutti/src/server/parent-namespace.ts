import { Adapter, type BroadcastOptions, type BroadcastPacket, type Room, type SocketId } from "../adapter/adapter.js";
import { Namespace } from "./namespace.js";
import type { Server } from "./server.js";
import type { Socket } from "./socket.js";
import type { DefaultEventsMap, DefaultSocketData, EventsMap } from "./typed-events.js";

/** Decides whether a namespace name is accepted by a dynamic namespace: `next(null, true)` to accept. */
export type NamespaceMatcher = (
  name: string,
  auth: Record<string, unknown>,
  next: (err: Error | null, accept: boolean) => void,
) => void;

/**
 * The namespace that `io.of(regex | function)` returns. It has no sockets of its own: each name
 * that matches creates a child namespace, which inherits the parent's middlewares and
 * "connection" listeners. Broadcasts and socket queries on the parent cover every child.
 */
export class ParentNamespace<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  SocketData = DefaultSocketData,
> extends Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
  readonly children = new Set<Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>();
  static #count = 0;

  constructor(server: Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) {
    super(server, `/_${ParentNamespace.#count++}`);
  }

  protected override createAdapter(): Adapter<Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>> {
    return new ChildrenAdapter(this) as unknown as Adapter<
      Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>
    >;
  }

  /** Creates the child namespace `name`, with the parent's middlewares and listeners. */
  createChild(name: string): Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
    const child = new Namespace(this.server, name);
    for (const fn of this.fns) child.use(fn);
    for (const ev of ["connect", "connection"] as const) {
      for (const listener of this.listeners(ev)) child.on(ev, listener as never);
    }
    this.children.add(child);
    return child;
  }

  /** Forgets an empty child (`cleanupEmptyChildNamespaces`). */
  removeChild(child: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>): void {
    this.children.delete(child);
  }
}

/** The parent's adapter: every operation runs on each child's own adapter. */
class ChildrenAdapter extends Adapter {
  // biome-ignore lint/suspicious/noExplicitAny: children of any event maps
  readonly #parent: ParentNamespace<any, any, any, any>;

  // biome-ignore lint/suspicious/noExplicitAny: children of any event maps
  constructor(parent: ParentNamespace<any, any, any, any>) {
    super(parent);
    this.#parent = parent;
  }

  #adapters(): Adapter[] {
    return [...this.#parent.children].map((child) => child.adapter as unknown as Adapter);
  }

  override broadcast(packet: BroadcastPacket, opts: BroadcastOptions): void {
    for (const adapter of this.#adapters()) adapter.broadcast(packet, opts);
  }

  override broadcastWithAck(
    packet: BroadcastPacket,
    opts: BroadcastOptions,
    clientCountCallback: (clientCount: number) => void,
    ack: (response: unknown) => void,
  ): () => void {
    let total = 0;
    const cancels = this.#adapters().map((adapter) => adapter.broadcastWithAck(packet, opts, (n) => (total += n), ack));
    clientCountCallback(total);
    return () => {
      for (const cancel of cancels) cancel();
    };
  }

  override async sockets(rooms: ReadonlySet<Room>): Promise<Set<SocketId>> {
    const out = new Set<SocketId>();
    for (const adapter of this.#adapters()) for (const id of await adapter.sockets(rooms)) out.add(id);
    return out;
  }

  override async fetchSockets(opts: BroadcastOptions) {
    const out = [];
    for (const adapter of this.#adapters()) out.push(...(await adapter.fetchSockets(opts)));
    return out;
  }

  override addSockets(opts: BroadcastOptions, rooms: readonly Room[]): void {
    for (const adapter of this.#adapters()) adapter.addSockets(opts, rooms);
  }

  override delSockets(opts: BroadcastOptions, rooms: readonly Room[]): void {
    for (const adapter of this.#adapters()) adapter.delSockets(opts, rooms);
  }

  override disconnectSockets(opts: BroadcastOptions, close: boolean): void {
    for (const adapter of this.#adapters()) adapter.disconnectSockets(opts, close);
  }
}
