import cluster, { type Worker } from "node:cluster";
import { availableParallelism } from "node:os";
import { systemClock } from "../clock.js";
import { TuttiError } from "../errors.js";
import { type PrimaryHub, type PrimaryOptions, setupPrimary } from "./primary-hub.js";

export interface RunClusterOptions extends PrimaryOptions {
  /** How many workers to fork. Default: `os.availableParallelism()`. */
  workers?: number;
  /** Fork a replacement for a worker that dies (not while shutting down). Default true. */
  respawn?: boolean;
  /**
   * The workers' IPC serialization. Default "advanced": binary payloads cross as they are;
   * with "json" Tutti's messages go v8-serialized in base64.
   */
  serialization?: "advanced" | "json";
  /**
   * Run the cluster's broker in the primary (`setupPrimary`). Default true. Set false when the
   * workers use another broker (`@tutti/redis` across machines): the primary then only supervises.
   */
  hub?: boolean;
  /** Milliseconds `stop` (and a forwarded signal) waits for the workers to exit before it kills them (SIGKILL). Default 10000. */
  shutdownTimeout?: number;
}

/** The primary's handle on the cluster `runCluster` started. */
export interface ClusterSupervisor {
  /** The broker the workers share; undefined with `hub: false`. */
  readonly hub: PrimaryHub | undefined;
  /** The live workers. */
  workers(): Worker[];
  /** Sends `signal` to every worker, stops re-forking, and resolves once all exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** A worker that dies sooner than this after its fork is re-forked after the same delay: no crash loop at full speed. */
const MIN_UPTIME = 1000;

/**
 * Runs the app on every core of the machine with ONE call. In the primary: starts the cluster's
 * broker (`setupPrimary`), forks `workers` workers, re-forks one that dies, forwards SIGTERM and
 * SIGINT to the workers and exits once they have; resolves with the supervisor. In a worker: runs
 * `worker()`, an ordinary Tutti app with `adapter: createWorkerAdapter()` listening on the shared
 * port (node:cluster hands each connection to one worker; no sticky sessions are needed).
 */
export async function runCluster(
  opts: RunClusterOptions,
  worker: () => void | Promise<void>,
): Promise<ClusterSupervisor | undefined> {
  if (!cluster.isPrimary) {
    await worker();
    return undefined;
  }
  const count = opts.workers ?? availableParallelism();
  if (!Number.isInteger(count) || count < 1)
    throw new TuttiError("INVALID_OPTION", `workers must be a positive integer, not ${String(count)}`);
  cluster.setupPrimary({ serialization: opts.serialization ?? "advanced" });
  const hub = opts.hub === false ? undefined : setupPrimary(opts);
  const respawn = opts.respawn !== false;
  let stopping: Promise<void> | undefined;
  const pending = new Set<NodeJS.Timeout>();
  const born = new WeakMap<Worker, number>();
  const clock = opts.clock ?? systemClock;

  const fork = (): void => {
    born.set(cluster.fork(), clock.now());
  };
  const onExit = (dead: Worker): void => {
    if (stopping !== undefined || !respawn) return;
    const lived = clock.now() - (born.get(dead) ?? 0);
    if (lived >= MIN_UPTIME) fork();
    else {
      const timer = setTimeout(() => {
        pending.delete(timer);
        if (stopping === undefined) fork();
      }, MIN_UPTIME);
      pending.add(timer);
    }
  };
  cluster.on("exit", onExit);

  const live = (): Worker[] => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
  const stop = (signal: NodeJS.Signals = "SIGTERM"): Promise<void> => {
    if (stopping !== undefined) return stopping;
    for (const timer of pending) clearTimeout(timer);
    pending.clear();
    stopping = new Promise<void>((resolve) => {
      let killer: NodeJS.Timeout | undefined;
      const done = (): void => {
        if (live().length > 0) return;
        clearTimeout(killer);
        cluster.off("exit", done);
        cluster.off("exit", onExit);
        hub?.close();
        resolve();
      };
      cluster.on("exit", done);
      for (const w of live()) w.process.kill(signal);
      // a worker that ignores the signal must not keep the cluster up forever
      killer = setTimeout(() => {
        for (const w of live()) w.process.kill("SIGKILL");
      }, opts.shutdownTimeout ?? 10_000);
      killer.unref();
      done();
    });
    return stopping;
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
    void stop(signal).then(() => process.exit(0));
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);

  for (let i = 0; i < count; i++) fork();
  return { hub, workers: live, stop };
}
