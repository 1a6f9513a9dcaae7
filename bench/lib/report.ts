import type { Environment } from "./machine.js";
import { median } from "./stats.js";
import type { TargetName } from "./targets.js";

/** The per-run numbers the report needs (a subset of a workload Sample). */
export interface RunNumbers {
  cpu: { user: number; system: number };
  seconds: number;
  events: number;
  p50Ms: number;
  p99Ms: number;
  rssPerConn: number;
  heapPerConn: number;
  errors: number;
  peakRss?: number;
  settledRss?: number;
  settledJs?: number;
  cut?: number;
  perHealthy?: number;
}

export interface TargetRuns {
  target: TargetName;
  label: string;
  runs: RunNumbers[];
  failures: number;
}

export interface WorkloadRuns {
  name: string;
  title: string;
  unit: string;
  setup: string;
  targets: TargetRuns[];
}

interface Medians {
  cpuPerMillion: number;
  rate: number;
  p50Ms: number;
  p99Ms: number;
  rssKiB: number;
  heapKiB: number;
  userShare: number;
  errors: number;
  peakMiB: number;
  settledMiB: number;
  settledJsMiB: number;
  /** Runs in which the stalled client was cut, and runs that report it. */
  cuts: number;
  cutRuns: number;
  perHealthy: number;
}

/** Each metric's median over the rounds, taken independently per metric. */
export function medians(runs: readonly RunNumbers[]): Medians {
  const of = (f: (r: RunNumbers) => number): number => median(runs.map(f));
  return {
    cpuPerMillion: of((r) => ((r.cpu.user + r.cpu.system) / r.events) * 1e6),
    rate: of((r) => r.events / r.seconds),
    p50Ms: of((r) => r.p50Ms),
    p99Ms: of((r) => r.p99Ms),
    rssKiB: of((r) => r.rssPerConn / 1024),
    heapKiB: of((r) => r.heapPerConn / 1024),
    userShare: of((r) => r.cpu.user / (r.cpu.user + r.cpu.system)),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    peakMiB: of((r) => (r.peakRss ?? Number.NaN) / 2 ** 20),
    settledMiB: of((r) => (r.settledRss ?? Number.NaN) / 2 ** 20),
    settledJsMiB: of((r) => (r.settledJs ?? Number.NaN) / 2 ** 20),
    cuts: runs.reduce((n, r) => n + (r.cut ?? 0), 0),
    cutRuns: runs.filter((r) => r.cut !== undefined).length,
    perHealthy: of((r) => r.perHealthy ?? Number.NaN),
  };
}

function num(n: number): string {
  if (!Number.isFinite(n)) return "–";
  // Three significant digits: more would be noise on a shared machine.
  return Math.abs(n) >= 1000 ? Math.round(n).toLocaleString("en-US") : n.toPrecision(3);
}

const ratio = (a: number, b: number): string => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : "–");
const percent = (n: number): string => (Number.isFinite(n) ? `${Math.round(n * 100)}%` : "–");

interface Column {
  head: string;
  value(m: Medians): number;
  show(m: Medians): string;
  /** Whether a Tutti / other ratio means something for this column. */
  ratio: boolean;
}

function columns(unit: string): Column[] {
  const metric = (head: string, value: (m: Medians) => number): Column => ({
    head,
    value,
    show: (m) => num(value(m)),
    ratio: true,
  });
  return [
    metric(`CPU s / M ${unit}`, (m) => m.cpuPerMillion),
    metric(`${unit}/s`, (m) => m.rate),
    metric("p50 ms", (m) => m.p50Ms),
    metric("p99 ms", (m) => m.p99Ms),
    metric("RSS KiB/conn", (m) => m.rssKiB),
    metric("heap KiB/conn", (m) => m.heapKiB),
    { head: "user CPU", value: (m) => m.userShare, show: (m) => percent(m.userShare), ratio: false },
    metric("peak RSS MiB", (m) => m.peakMiB),
    metric("settled RSS MiB", (m) => m.settledMiB),
    metric("settled heap + external MiB", (m) => m.settledJsMiB),
    {
      head: "slow client cut",
      value: (m) => (m.cutRuns > 0 ? m.cuts : Number.NaN),
      show: (m) => `${m.cuts} of ${m.cutRuns}`,
      ratio: false,
    },
    { head: "each healthy client got", value: (m) => m.perHealthy, show: (m) => num(m.perHealthy), ratio: false },
  ];
}

export function renderTable(w: WorkloadRuns): string {
  const byTarget = w.targets.map((t) => ({ t, m: medians(t.runs) }));
  // A workload that does not measure a column (idle has no window, handshakes keep no
  // connections, RSS is left out below 500 clients) drops it rather than print a row of dashes.
  const shown = columns(w.unit).filter((c) => byTarget.some(({ m }) => Number.isFinite(c.value(m))));
  const head = ["", ...shown.map((c) => c.head), "runs"];
  const lines = [`| ${head.join(" | ")} |`, `|${head.map((_, i) => (i === 0 ? " --- " : " ---: ")).join("|")}|`];
  for (const { t, m } of byTarget) {
    const runs = `${t.runs.length}${t.failures > 0 ? ` (+${t.failures} failed)` : ""}`;
    lines.push(`| ${t.label} | ${shown.map((c) => c.show(m)).join(" | ")} | ${runs} |`);
  }
  const tutti = byTarget.find(({ t }) => t.target === "tutti")?.m;
  for (const { t, m } of byTarget) {
    if (!tutti || t.target === "tutti") continue;
    const cells = shown.map((c) => (c.ratio ? ratio(c.value(tutti), c.value(m)) : ""));
    lines.push(`| *Tutti / ${t.label}* | ${cells.join(" | ")} | |`);
  }
  const notes = byTarget
    .filter(({ m }) => m.errors > 0)
    .map(({ t, m }) => `> ${t.label}: ${m.errors} clients lost or handshakes failed during measured windows.`);
  return [`### ${w.title}`, "", `${w.setup}.`, "", ...lines, ...(notes.length ? ["", ...notes] : [])].join("\n");
}

export interface ReportMeta {
  mode: string;
  rounds: number;
  loaders: number;
  date: string;
  wallSeconds: number;
  command: string;
}

export function renderReport(env: Environment, meta: ReportMeta, workloads: readonly WorkloadRuns[]): string {
  const versions = Object.entries(env.versions)
    .map(([n, v]) => `${n} ${v}`)
    .join(", ");
  return [
    "# Benchmark results",
    "",
    `Generated by \`${meta.command}\` on ${meta.date} (${meta.mode} mode, ${meta.rounds} interleaved rounds, ${meta.loaders} load-generator processes, ${Math.round(meta.wallSeconds)} s wall time). See [README.md](README.md) for the method.`,
    "",
    `- Machine: ${env.cpu}, ${env.cores} cores, ${env.ramGiB} GiB RAM; ${env.os}, Linux ${env.kernel}`,
    `- Node ${env.node}; Tutti ${env.tutti}; ${versions}`,
    "",
    "Every number is the median of the rounds, per metric. CPU is the server process's user + system",
    "time from /proc over the measured window only. Ratios are Tutti's median over the other's: below",
    "1 is better for CPU, latency and memory, above 1 is better for the rate.",
    "",
    ...workloads.flatMap((w) => [renderTable(w), ""]),
    "## Method in brief",
    "",
    "- Three servers (Tutti; socket.io with default options and `serveClient: false`; a raw `ws` server",
    "  speaking Engine.IO/Socket.IO by hand, framing each broadcast once and coalescing writes per",
    "  event-loop turn), each a fresh process per run, all with pingInterval 25 s / pingTimeout 20 s.",
    "- The same load generators drive all three: raw Engine.IO/Socket.IO clients over `ws` (or HTTP",
    "  long-polling) in separate processes. Each target is first checked with the official",
    "  socket.io-client (join ack, say to the room only, echo ack, publisher; websocket and polling).",
    "- Runs are interleaved Tutti, socket.io, ws, Tutti, socket.io, ws, ... within each workload.",
    "- Deliveries are counted at the receivers; latency is from a CLOCK_MONOTONIC stamp in the",
    "  payload to its receipt (1% histogram buckets); memory per connection is the growth of RSS and",
    "  V8 heapUsed, each after a full GC, from before connecting to after all clients joined.",
    "",
  ].join("\n");
}
