// Helpers for the tests of socket.io's own adapters on Tutti (sio-adapters-*.test.ts).
import type { Socket as ClientSocket } from "socket.io-client";
import type { AdapterConstructor, ServerOptions } from "../src/index.js";
import { connected, type RunningIo, startIo } from "./sio-helpers.js";

/**
 * The `skip` option of a suite that needs a service: false when it answers; the reason when it
 * does not, except under CI=true, where a missing service fails the run.
 */
export function skipUnless(available: boolean, what: string): false | string {
  if (available) return false;
  if (process.env.CI === "true") throw new Error(`CI=true: ${what} is needed for these tests`);
  return `${what} is not reachable here`;
}

/** Resolves once `check` holds, checking every few milliseconds; rejects after `limitMs` with `what`. */
export async function until(check: () => boolean | Promise<boolean>, what: string, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Several Tutti servers in this process, each with its own adapter from `makeAdapter`. */
export interface Nodes {
  readonly nodes: RunningIo[];
  /** Connects an official client to node `index`, joined to `rooms` (through a "join" event the nodes answer). */
  client(index: number, rooms?: readonly string[]): Promise<ClientSocket>;
  close(): Promise<void>;
}

/**
 * Starts `count` nodes; the first ones get their adapter as the `adapter` option, the last one
 * through `io.adapter()`, so both paths are taken.
 */
export async function startNodes(
  count: number,
  makeAdapter: () => unknown,
  opts: Partial<ServerOptions> = {},
): Promise<Nodes> {
  const nodes: RunningIo[] = [];
  for (let i = 0; i < count; i++) {
    const last = i === count - 1 && count > 1;
    const node = await startIo(last ? opts : { ...opts, adapter: makeAdapter() as AdapterConstructor });
    if (last) node.io.adapter(makeAdapter() as AdapterConstructor);
    node.io.on("connection", (socket) => {
      socket.on("join", (rooms: string[], ack: () => void) => {
        socket.join(rooms);
        ack();
      });
      socket.on("set", (key: string, value: unknown, ack: () => void) => {
        (socket.data as Record<string, unknown>)[key] = value;
        ack();
      });
    });
    nodes.push(node);
  }
  return {
    nodes,
    async client(index, rooms = []) {
      const socket = (nodes[index] as RunningIo).client("/");
      await connected(socket);
      if (rooms.length > 0) await socket.emitWithAck("join", rooms);
      return socket;
    },
    async close() {
      for (const node of nodes) await node.close();
    },
  };
}

/** Counts the `event`s each client gets, from now on. */
export function countEvents(clients: readonly ClientSocket[], event: string): number[] {
  const counts = clients.map(() => 0);
  clients.forEach((client, i) => {
    client.on(event, () => {
      counts[i] = (counts[i] as number) + 1;
    });
  });
  return counts;
}

/** Disconnects the clients (they stay in the node's list; `close()` is harmless for them). */
export function disconnectAll(clients: readonly ClientSocket[]): void {
  for (const client of clients) client.disconnect();
}
