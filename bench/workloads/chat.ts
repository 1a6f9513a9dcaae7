import {
  ALL_TARGETS,
  connectClients,
  type Mode,
  measure,
  memoryPerConnection,
  onAll,
  type Workload,
} from "./workload.js";

/**
 * Chat: clients spread over rooms, each saying a stamped message to its room at a steady rate; the
 * server relays it to the rest of the room. Latency is from the sender's emit to each delivery.
 */
export function chat(mode: Mode): Workload {
  const sizes =
    mode === "full"
      ? { clients: 500, rooms: 10, perSecond: 2, ms: 10_000, warmupMs: 2_000 }
      : { clients: 200, rooms: 4, perSecond: 2, ms: 1_000, warmupMs: 300 };
  const bytes = 100;
  return {
    name: "chat",
    title: "Chat",
    unit: "deliveries",
    setup: `${sizes.clients} clients in ${sizes.rooms} rooms, each sending ${sizes.perSecond} messages of ${bytes} bytes a second to its room (sender excluded), for ${sizes.ms / 1000} s (after ${sizes.warmupMs / 1000} s warm-up)`,
    targets: ALL_TARGETS,
    run: async (ctx) => {
      const memory = await memoryPerConnection(
        ctx,
        () => connectClients(ctx, sizes.clients, "websocket", sizes.rooms),
        sizes.clients,
      );
      const say = (durationMs: number) =>
        onAll(ctx, (l) => l.request("chat", { durationMs, perSecond: sizes.perSecond, bytes }));
      await say(sizes.warmupMs);
      const m = await measure(ctx, () => say(sizes.ms));
      return { ...m, ...memory };
    },
  };
}
