import type { Transport, WindowResult } from "../lib/commands.js";
import type { LoaderPeer } from "../lib/loaders.js";
import {
  ALL_TARGETS,
  connectClients,
  type Mode,
  measure,
  memoryPerConnection,
  onAll,
  type RunContext,
  resetAll,
  type Workload,
} from "./workload.js";

export interface FanoutSizes {
  clients: number;
  messages: number;
  warmup: number;
  bytes: number;
  burst: number;
}

const ROOM = "room-0";

/** The publisher broadcasts `count` messages to the room; resolves once every client has them all. */
async function publishAndAwait(ctx: RunContext, sizes: FanoutSizes, count: number): Promise<WindowResult[]> {
  await resetAll(ctx);
  const [received] = await Promise.all([
    onAll(ctx, (l: LoaderPeer) => l.request("awaitMessages", { perClient: count })),
    ctx.server.request("publish", { room: ROOM, count, burst: sizes.burst, bytes: sizes.bytes }),
  ]);
  return received;
}

/**
 * Fan-out: every client in one room, the server publishes; the window runs from the first
 * broadcast until the last client has the last message. Latency is emit-to-delivery and, with the
 * publisher running flat out, mostly queueing.
 */
export function fanout(mode: Mode, transport: Transport, burst: number): Workload {
  const polling = transport === "polling";
  const sizes: FanoutSizes =
    mode === "full"
      ? { clients: 1000, messages: polling ? 500 : 2000, warmup: 200, bytes: 100, burst }
      : { clients: polling ? 100 : 200, messages: polling ? 100 : 500, warmup: polling ? 20 : 50, bytes: 100, burst };
  return {
    name: polling ? "polling" : "fanout",
    title: polling ? "Long-polling fan-out" : "Fan-out",
    unit: "deliveries",
    setup: `${sizes.clients} clients in one room over ${transport}; the server broadcasts ${sizes.messages} messages of ${sizes.bytes} bytes, ${sizes.burst} per event-loop turn (after ${sizes.warmup} warm-up messages)`,
    targets: polling ? ["tutti", "socketio"] : ALL_TARGETS,
    run: async (ctx) => {
      const memory = await memoryPerConnection(
        ctx,
        () => connectClients(ctx, sizes.clients, transport, 1),
        sizes.clients,
      );
      await publishAndAwait(ctx, sizes, sizes.warmup);
      const m = await measure(ctx, () => publishAndAwait(ctx, sizes, sizes.messages));
      return { ...m, ...memory };
    },
  };
}
