import type { Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { stampedPayload } from "../lib/clock.js";
import type { MemSample, PublishArgs, ServerCommands } from "../lib/commands.js";
import { announceReady, serveCommands } from "../lib/ipc.js";

/** What each target server hands the harness: its HTTP server and its way to broadcast. */
export interface Target {
  httpServer: HttpServer;
  /** Broadcasts `msg(payload)` to every client in `room`. */
  publish(room: string, payload: string): void;
  /** Engine.IO sessions (raw ws: connections) held now. */
  clients(): number;
  impl: string;
}

function sampleMemory(): MemSample {
  const gc = globalThis.gc;
  if (!gc) throw new Error("start the server with --expose-gc");
  // Twice: the first pass runs finalizers that free more on the second.
  gc();
  gc();
  const { rss, heapUsed, external, heapTotal } = process.memoryUsage();
  return { rss, heapUsed, external, heapTotal };
}

/**
 * The publisher broadcasts `burst` messages per event-loop turn, then yields with setImmediate so
 * that the socket writes and the clients' traffic get their turn. Each message is stamped when it
 * is emitted, so the receiver measures emit-to-delivery latency, queueing included.
 */
function publish(target: Target, args: PublishArgs): Promise<{ published: number }> {
  return new Promise((resolve) => {
    let sent = 0;
    const turn = (): void => {
      const end = Math.min(args.count, sent + args.burst);
      for (; sent < end; sent++) target.publish(args.room, stampedPayload(args.bytes));
      if (sent < args.count) setImmediate(turn);
      else resolve({ published: sent });
    };
    turn();
  });
}

/** Listens on an ephemeral loopback port, reports it to the parent and serves its commands. */
export function runTarget(target: Target): void {
  serveCommands<ServerCommands>({
    mem: () => sampleMemory(),
    publish: (args) => publish(target, args),
    clients: () => ({ clients: target.clients() }),
  });
  target.httpServer.listen(0, "127.0.0.1", () => {
    const { port } = target.httpServer.address() as AddressInfo;
    announceReady({ port, pid: process.pid, impl: target.impl });
  });
}
