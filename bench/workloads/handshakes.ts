import { ALL_TARGETS, type Mode, measure, onAll, shares, type Workload } from "./workload.js";

/**
 * Connection rate: loops that each open a WebSocket, complete the Engine.IO handshake and the
 * Socket.IO CONNECT, then close it. Latency is from opening the TCP connection to the CONNECT.
 */
export function handshakes(mode: Mode): Workload {
  const sizes = mode === "full" ? { loops: 50, ms: 5_000, warmupMs: 1_000 } : { loops: 50, ms: 800, warmupMs: 200 };
  return {
    name: "handshakes",
    title: "Connection rate",
    unit: "handshakes",
    setup: `${sizes.loops} concurrent loops of connect (WebSocket + Engine.IO open + Socket.IO CONNECT) then close, for ${sizes.ms / 1000} s (after ${sizes.warmupMs / 1000} s warm-up)`,
    targets: ALL_TARGETS,
    run: async (ctx) => {
      const loops = shares(sizes.loops, ctx.loaders.length);
      const run = (durationMs: number) =>
        onAll(ctx, (l, i) =>
          l.request("handshakeLoop", { port: ctx.ready.port, durationMs, concurrency: loops[i] ?? 0 }),
        );
      await run(sizes.warmupMs);
      const m = await measure(ctx, () => run(sizes.ms));
      return { ...m, rssPerConn: Number.NaN, heapPerConn: Number.NaN };
    },
  };
}
