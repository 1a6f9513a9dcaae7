import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { checkTargets } from "./check.js";
import type { ServerReady } from "./lib/commands.js";
import { type LoaderPeer, startLoaders } from "./lib/loaders.js";
import { describeEnvironment } from "./lib/machine.js";
import { medians, renderReport, renderTable, type TargetRuns, type WorkloadRuns } from "./lib/report.js";
import { type ServerPeer, startTarget, TARGETS, type TargetSpec } from "./lib/targets.js";
import { chat } from "./workloads/chat.js";
import { echo } from "./workloads/echo.js";
import { fanout } from "./workloads/fanout.js";
import { handshakes } from "./workloads/handshakes.js";
import { idle } from "./workloads/idle.js";
import { slowConsumer } from "./workloads/slow-consumer.js";
import type { Mode, Sample, Workload } from "./workloads/workload.js";

/**
 * The benchmark orchestrator: checks the three targets, then runs each workload against them in
 * interleaved rounds (A B C A B C ...) and reports the medians. See README.md.
 */
const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    targets: { type: "string" },
    rounds: { type: "string" },
    loaders: { type: "string", default: "2" },
    burst: { type: "string", default: "10" },
    prof: { type: "boolean", default: process.env.BENCH_PROF === "1" },
    "prof-all": { type: "boolean", default: process.env.BENCH_PROF === "all" },
    "skip-check": { type: "boolean", default: false },
  },
});

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));
const mode: Mode = args.quick ? "quick" : "full";
const rounds = Number(args.rounds ?? 3);
const loaderCount = Number(args.loaders);
const burst = Number(args.burst);
const profileDir = here("./profiles");

const ALL: Workload[] = [
  fanout(mode, "websocket", burst),
  echo(mode),
  idle(mode),
  chat(mode),
  handshakes(mode),
  fanout(mode, "polling", burst),
  slowConsumer(mode),
];
const only = args.only?.split(",");
const selected = only ? ALL.filter((w) => only.includes(w.name)) : ALL;
if (selected.length === 0) throw new Error(`--only: pick from ${ALL.map((w) => w.name).join(", ")}`);
const targetFilter = args.targets?.split(",");
const targets = targetFilter ? TARGETS.filter((t) => targetFilter.includes(t.name)) : TARGETS;

/** The soft limit on open files, which every child inherits. */
function openFileLimit(): number {
  const line = readFileSync("/proc/self/limits", "utf8")
    .split("\n")
    .find((l) => l.startsWith("Max open files"));
  return Number(line?.split(/\s+/)[3] ?? Number.POSITIVE_INFINITY);
}

/** One run: a workload, a round, a target. */
interface Step {
  workload: Workload;
  round: number;
  spec: TargetSpec;
}

type Launched = Promise<{ peer: ServerPeer; ready: ServerReady }>;

function launch(step: Step): Launched {
  const { workload, round, spec } = step;
  const profiled = args["prof-all"] || (args.prof && spec.name === "tutti");
  const nodeFlags = profiled
    ? [
        "--cpu-prof",
        `--cpu-prof-dir=${profileDir}`,
        `--cpu-prof-name=${spec.name}-${workload.name}-r${round}.cpuprofile`,
      ]
    : [];
  const launched = startTarget(spec, { nodeFlags });
  launched.catch(() => {});
  return launched;
}

/**
 * Runs every step in order, each on a fresh server process. The next server is launched while the
 * current one stops and its clients are torn down: neither is measured, and it saves a process
 * start per run (about a third of a second, fifty times in quick mode).
 */
async function runSteps(
  steps: readonly Step[],
  loaders: readonly LoaderPeer[],
  done: (step: Step, outcome: Sample | Error) => void,
): Promise<void> {
  let next: Launched | undefined = steps[0] && launch(steps[0]);
  for (const [i, step] of steps.entries()) {
    const following = steps[i + 1];
    const launched = next as Launched;
    next = undefined;
    let outcome: Sample | Error;
    try {
      const { peer, ready } = await launched;
      try {
        outcome = await step.workload.run({ server: peer, ready, loaders });
      } finally {
        // The server goes first so that tearing down thousands of clients costs it nothing.
        const stopping = peer.stop();
        if (following) next = launch(following);
        await stopping;
        await Promise.all(loaders.map((l) => l.request("disconnect", {})));
      }
    } catch (err) {
      outcome = err instanceof Error ? err : new Error(String(err));
      if (following && !next) next = launch(following);
    }
    done(step, outcome);
  }
}

function progress(workload: Workload, round: number, spec: TargetSpec, s: Sample): string {
  const m = medians([s]);
  const f = (n: number, d = 3): string => (Number.isFinite(n) ? n.toPrecision(d) : "–");
  return [
    `${workload.name.padEnd(10)} r${round} ${spec.label.padEnd(9)}`,
    `cpu ${f(m.cpuPerMillion)} s/M`,
    `${f(m.rate, 4)} ${workload.unit}/s`,
    `p50 ${f(m.p50Ms)} ms p99 ${f(m.p99Ms)} ms`,
    `rss ${f(m.rssKiB)} KiB heap ${f(m.heapKiB)} KiB/conn`,
    s.peakRss === undefined
      ? ""
      : `peak ${f(m.peakMiB)} MiB settled ${f(m.settledMiB)} MiB (js ${f(m.settledJsMiB)}) cut ${s.cut === 1 ? "yes" : "no"} got ${f(m.perHealthy, 5)}`,
    s.errors ? `ERRORS ${s.errors}` : "",
  ].join("  ");
}

async function main(): Promise<void> {
  const started = Date.now();
  // Described now, when Tutti's build is snapshotted (lib/compile.ts), not after the runs.
  const env = describeEnvironment();
  const limit = openFileLimit();
  if (limit < 12_000 && selected.some((w) => w.name === "idle")) {
    console.warn(`warning: open-file limit is ${limit}; the idle workload needs about 10,000 (ulimit -n 65536)`);
  }
  // The generators start while the check runs: they sit idle until the first workload.
  const starting = startLoaders(loaderCount);
  starting.catch(() => {});
  if (!args["skip-check"]) await checkTargets(targets);
  if (args.prof || args["prof-all"]) mkdirSync(profileDir, { recursive: true });

  const loaders = await starting;
  // Rounds interleave within each workload: A B C, A B C, ...
  const steps: Step[] = selected.flatMap((workload) => {
    const specs = targets.filter((t) => workload.targets.includes(t.name));
    return Array.from({ length: rounds }, (_, r) => specs.map((spec) => ({ workload, round: r + 1, spec }))).flat();
  });
  const runs = new Map<Workload, Map<string, TargetRuns>>();
  let workloadStarted = Date.now();
  const results: WorkloadRuns[] = [];
  try {
    await runSteps(steps, loaders, (step, outcome) => {
      const { workload, round, spec } = step;
      let byTarget = runs.get(workload);
      if (!byTarget) {
        byTarget = new Map();
        runs.set(workload, byTarget);
      }
      let entry = byTarget.get(spec.name);
      if (!entry) {
        entry = { target: spec.name, label: spec.label, runs: [], failures: 0 };
        byTarget.set(spec.name, entry);
      }
      if (outcome instanceof Error) {
        entry.failures++;
        console.error(`${workload.name} r${round} ${spec.label}: FAILED ${outcome.message}`);
      } else {
        entry.runs.push(outcome);
        console.log(progress(workload, round, spec, outcome));
      }
      const last = steps.filter((s) => s.workload === workload).at(-1) === step;
      if (!last) return;
      const { name, title, unit, setup } = workload;
      const result = { name, title, unit, setup, targets: [...byTarget.values()] };
      results.push(result);
      const seconds = Math.round((Date.now() - workloadStarted) / 1000);
      console.log(`\n${renderTable(result)}\n\n(${workload.name}: ${seconds} s)\n`);
      workloadStarted = Date.now();
    });
  } finally {
    await Promise.all(loaders.map((l) => l.stop()));
  }

  const wallSeconds = (Date.now() - started) / 1000;
  const date = new Date().toISOString();
  const extra = process.argv.slice(2).filter((a) => a !== "--quick");
  const command = `npm run bench${args.quick ? ":quick" : ""}${extra.length > 0 ? ` -- ${extra.join(" ")}` : ""}`;
  const report = renderReport(env, { mode, rounds, loaders: loaderCount, date, wallSeconds, command }, results);

  mkdirSync(here("./results"), { recursive: true });
  const stamp = date.replace(/[:.]/g, "-");
  writeFileSync(here(`./results/${stamp}-${mode}.json`), JSON.stringify({ env, mode, rounds, date, results }, null, 2));
  // Only a complete full run replaces the committed table; quick and partial runs stay local.
  const official = mode === "full" && !only && !targetFilter && rounds >= 3;
  const out = official ? here("./RESULTS.md") : here(`./results/RESULTS-${mode}.md`);
  writeFileSync(out, report);
  console.log(`wrote ${out} (${Math.round(wallSeconds)} s)`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
