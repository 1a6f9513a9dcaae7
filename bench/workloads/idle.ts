import { setTimeout as sleep } from "node:timers/promises";
import { ALL_TARGETS, connectClients, type Mode, memoryPerConnection, type Workload } from "./workload.js";

/** Idle memory: clients connected (Engine.IO + Socket.IO CONNECT) and doing nothing; only memory is reported. */
export function idle(mode: Mode): Workload {
  const clients = mode === "full" ? 10_000 : 500;
  const settleMs = mode === "full" ? 500 : 200;
  return {
    name: "idle",
    title: "Idle memory",
    unit: "connections",
    setup: `${clients.toLocaleString("en-US")} connected idle clients over websocket; memory sampled after a full GC before connecting and ${settleMs} ms after the last CONNECT`,
    targets: ALL_TARGETS,
    run: async (ctx) => {
      const memory = await memoryPerConnection(
        ctx,
        async () => {
          await connectClients(ctx, clients, "websocket", 0);
          // Let handshake leftovers (timers, buffers of the upgrade) settle before sampling.
          await sleep(settleMs);
        },
        clients,
      );
      return {
        cpu: { user: Number.NaN, system: Number.NaN },
        seconds: Number.NaN,
        events: Number.NaN,
        p50Ms: Number.NaN,
        p99Ms: Number.NaN,
        errors: 0,
        ...memory,
      };
    },
  };
}
