import { setTimeout as sleep } from "node:timers/promises";
import type { WindowResult } from "../lib/commands.js";
import type { LoaderPeer } from "../lib/loaders.js";
import { readPeakRss, resetPeakRss } from "../lib/proc.js";
import {
  ALL_TARGETS,
  connectClients,
  type Mode,
  measure,
  onAll,
  type RunContext,
  resetAll,
  type Workload,
} from "./workload.js";

const ROOM = "room-0";

/** Broadcasts `count` messages of `bytes` to the room in one synchronous go; resolves once every healthy client has them. */
async function burstAndAwait(ctx: RunContext, count: number, bytes: number): Promise<WindowResult[]> {
  await resetAll(ctx);
  const [received] = await Promise.all([
    onAll(ctx, (l: LoaderPeer) => l.request("awaitMessages", { perClient: count }, 300_000)),
    ctx.server.request("publish", { room: ROOM, count, burst: count, bytes }, 300_000),
  ]);
  return received;
}

/**
 * A slow consumer during a burst: every client in one room, one of them stops reading (its TCP
 * socket paused), and the server broadcasts a burst in one synchronous go, as a server relaying a
 * backed-up upstream feed does. Measured: the server's RSS growth at its peak (VmHWM, reset just
 * before the burst) and settled (after the healthy clients have the burst and one more message,
 * a pause and a full GC), whether the server cut the stalled client, and what each healthy
 * client got. CPU and latency are the burst's, from the first broadcast until the last healthy
 * client has the last message.
 */
export function slowConsumer(mode: Mode): Workload {
  const clients = 100;
  const messages = 20_000;
  const bytes = 1024;
  // a burst of the same kind with nobody stalled, so the JIT and the allocators have seen one
  const warmup = mode === "full" ? 2_000 : 500;
  const settleMs = mode === "full" ? 3_000 : 1_000;
  return {
    name: "slow",
    title: "Slow consumer during a burst",
    unit: "deliveries",
    setup: `${clients} clients in one room over websocket, one of which stops reading (its TCP socket paused); the server broadcasts ${messages.toLocaleString("en-US")} messages of ${bytes} bytes in one synchronous go (after a ${warmup.toLocaleString("en-US")}-message warm-up burst with nobody stalled), then one more once the healthy clients have them all. RSS growth from a full GC before the burst: at its peak (VmHWM), and settled (${settleMs / 1000} s after that last message, after a full GC)`,
    targets: ALL_TARGETS,
    run: async (ctx) => {
      const pid = ctx.ready.pid;
      await connectClients(ctx, clients, "websocket", 1);
      await burstAndAwait(ctx, warmup, bytes);
      await (ctx.loaders[0] as LoaderPeer).request("stall", { count: 1 });
      const before = await ctx.server.request("mem", {});
      resetPeakRss(pid);
      const m = await measure(ctx, () => burstAndAwait(ctx, messages, bytes));
      const peakRss = readPeakRss(pid) - before.rss;
      // Live traffic goes on: the next message is where a server with a limit sees the backlog.
      await burstAndAwait(ctx, 1, bytes);
      await sleep(settleMs);
      const after = await ctx.server.request("mem", {});
      const { clients: held } = await ctx.server.request("clients", {});
      return {
        ...m,
        rssPerConn: Number.NaN,
        heapPerConn: Number.NaN,
        peakRss,
        settledRss: after.rss - before.rss,
        settledJs: after.heapUsed + after.external - before.heapUsed - before.external,
        cut: held < clients ? 1 : 0,
        perHealthy: m.events / (clients - 1),
      };
    },
  };
}
