import type { ServerReady, Transport, WindowResult } from "../lib/commands.js";
import { Histogram } from "../lib/histogram.js";
import type { LoaderPeer } from "../lib/loaders.js";
import { type CpuTime, cpuBetween, readCpuTime } from "../lib/proc.js";
import type { ServerPeer, TargetName } from "../lib/targets.js";

export type Mode = "quick" | "full";

/** One run of one workload against one target. NaN marks what a workload does not measure. */
export interface Sample {
  /** Server CPU over the measured window. */
  cpu: CpuTime;
  /** Wall time of the measured window, in seconds. */
  seconds: number;
  /** Deliveries, acks or handshakes counted by the load generators in the window. */
  events: number;
  p50Ms: number;
  p99Ms: number;
  rssPerConn: number;
  heapPerConn: number;
  /** Clients lost or handshakes failed during the window: any is a red flag. */
  errors: number;
  /** Slow consumer: server RSS growth at its peak during the burst, in bytes. */
  peakRss?: number;
  /** Slow consumer: server RSS growth after the burst, the next packet, a pause and a full GC, in bytes. */
  settledRss?: number;
  /** Slow consumer: what of `settledRss` JavaScript still holds (V8 heap used plus external memory), in bytes. */
  settledJs?: number;
  /** Slow consumer: 1 when the server cut the stalled client, 0 when it still held it. */
  cut?: number;
  /** Slow consumer: messages each healthy client received in the window. */
  perHealthy?: number;
}

export interface RunContext {
  server: ServerPeer;
  ready: ServerReady;
  loaders: readonly LoaderPeer[];
}

export interface Workload {
  /** The --only key. */
  name: string;
  title: string;
  /** What one counted event is: "deliveries", "acks", "handshakes". */
  unit: string;
  /** The sizes used, for the report. */
  setup: string;
  targets: readonly TargetName[];
  run(ctx: RunContext): Promise<Sample>;
}

export const ALL_TARGETS: readonly TargetName[] = ["tutti", "socketio", "ws"];

/** Splits `total` as evenly as possible over the generators. */
export function shares(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

/** Connects `count` clients spread over the generators; client i joins room i % rooms. */
export async function connectClients(
  ctx: RunContext,
  count: number,
  transport: Transport,
  rooms: number,
): Promise<void> {
  let firstIndex = 0;
  await Promise.all(
    shares(count, ctx.loaders.length).map((n, i) => {
      const args = { port: ctx.ready.port, transport, count: n, firstIndex, rooms };
      firstIndex += n;
      return (ctx.loaders[i] as LoaderPeer).request("connect", args);
    }),
  );
}

/**
 * RSS moves by megabytes for reasons of its own (V8 returning pages after the first full GC,
 * allocator arenas), which swamps the growth of a few hundred clients: measured RSS per client at
 * 200 clients ranged from 0.5 to 20 KiB for the same server. Below this many clients it is not
 * reported; the heap, which a full GC makes exact, always is.
 */
const MIN_CLIENTS_FOR_RSS = 500;

/** Server RSS and heap growth per client between two samples, taken after a full GC each. */
export async function memoryPerConnection(
  ctx: RunContext,
  connect: () => Promise<void>,
  clients: number,
): Promise<{ rssPerConn: number; heapPerConn: number }> {
  const before = await ctx.server.request("mem", {});
  await connect();
  const after = await ctx.server.request("mem", {});
  return {
    rssPerConn: clients >= MIN_CLIENTS_FOR_RSS ? (after.rss - before.rss) / clients : Number.NaN,
    heapPerConn: (after.heapUsed - before.heapUsed) / clients,
  };
}

export interface Measured {
  cpu: CpuTime;
  seconds: number;
  events: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

/**
 * Runs `fn` as the measured window: server CPU from /proc at its start and end only, wall time
 * around it, and the generators' counts and latencies merged.
 */
export async function measure(ctx: RunContext, fn: () => Promise<WindowResult[]>): Promise<Measured> {
  const cpuStart = readCpuTime(ctx.ready.pid);
  const start = process.hrtime.bigint();
  const results = await fn();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = cpuBetween(cpuStart, readCpuTime(ctx.ready.pid));
  const latency = new Histogram();
  let events = 0;
  let errors = 0;
  for (const r of results) {
    latency.add(r.latency);
    events += r.events;
    errors += r.errors;
  }
  return { cpu, seconds, events, errors, p50Ms: latency.quantile(0.5) / 1e3, p99Ms: latency.quantile(0.99) / 1e3 };
}

/** Every generator runs `request` at once; resolves with all their results. */
export function onAll(
  ctx: RunContext,
  request: (loader: LoaderPeer, i: number) => Promise<WindowResult>,
): Promise<WindowResult[]> {
  return Promise.all(ctx.loaders.map(request));
}

export async function resetAll(ctx: RunContext): Promise<void> {
  await Promise.all(ctx.loaders.map((l) => l.request("reset", {})));
}
