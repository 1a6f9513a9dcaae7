import {
  ALL_TARGETS,
  connectClients,
  type Mode,
  measure,
  memoryPerConnection,
  onAll,
  type Workload,
} from "./workload.js";

/** Echo with ack: each client emits `echo` and sends the next as soon as the ack is back; latency is the round trip. */
export function echo(mode: Mode): Workload {
  const sizes =
    mode === "full" ? { clients: 200, ms: 10_000, warmupMs: 1_000 } : { clients: 50, ms: 700, warmupMs: 200 };
  const bytes = 100;
  return {
    name: "echo",
    title: "Echo with ack",
    unit: "acks",
    setup: `${sizes.clients} clients, each emitting a ${bytes}-byte echo with ack in sequence, for ${sizes.ms / 1000} s (after ${sizes.warmupMs / 1000} s warm-up)`,
    targets: ALL_TARGETS,
    run: async (ctx) => {
      const memory = await memoryPerConnection(
        ctx,
        () => connectClients(ctx, sizes.clients, "websocket", 0),
        sizes.clients,
      );
      await onAll(ctx, (l) => l.request("echo", { durationMs: sizes.warmupMs, bytes }));
      const m = await measure(ctx, () => onAll(ctx, (l) => l.request("echo", { durationMs: sizes.ms, bytes })));
      return { ...m, ...memory };
    },
  };
}
