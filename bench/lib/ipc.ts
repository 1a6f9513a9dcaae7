import { type ChildProcess, fork } from "node:child_process";

/** The commands a child answers: each name maps to its argument and its result. */
export type CommandMap = Record<string, { args: unknown; result: unknown }>;

interface Request {
  id: number;
  cmd: string;
  args: unknown;
}

interface Reply {
  id: number;
  result?: unknown;
  error?: string;
}

interface ReadyMessage<R> {
  ready: R;
}

export interface SpawnOptions {
  /** Extra Node flags, e.g. --cpu-prof. */
  nodeFlags?: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** Milliseconds to wait for the child's ready message. */
  readyTimeoutMs?: number;
}

/**
 * A child process driven by request/response over the IPC channel. Children get --expose-gc, so
 * memory can be sampled after a full collection; a .ts script runs through tsx.
 */
export class Peer<C extends CommandMap, R> {
  readonly child: ChildProcess;
  readonly ready: Promise<R>;
  readonly exited: Promise<number | null>;
  #nextId = 1;
  readonly #pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  constructor(script: string, opts: SpawnOptions = {}) {
    this.child = fork(script, [], {
      execArgv: [...(script.endsWith(".ts") ? ["--import", "tsx"] : []), "--expose-gc", ...(opts.nodeFlags ?? [])],
      env: opts.env ?? process.env,
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.exited = new Promise((resolve) => this.child.once("exit", (code) => resolve(code)));
    this.ready = new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${script}: not ready in time`)), opts.readyTimeoutMs ?? 20_000);
      this.child.on("message", (msg: Reply | ReadyMessage<R>) => {
        if ("ready" in msg) {
          clearTimeout(timer);
          resolve(msg.ready);
          return;
        }
        const waiter = this.#pending.get(msg.id);
        if (!waiter) return;
        this.#pending.delete(msg.id);
        if (msg.error !== undefined) waiter.reject(new Error(msg.error));
        else waiter.resolve(msg.result);
      });
      void this.exited.then((code) => {
        clearTimeout(timer);
        const err = new Error(`${script} exited with code ${code}`);
        reject(err);
        for (const w of this.#pending.values()) w.reject(err);
        this.#pending.clear();
      });
    });
    // A child that dies before anyone awaits `ready` must not crash the run as unhandled.
    this.ready.catch(() => {});
  }

  get pid(): number {
    const pid = this.child.pid;
    if (pid === undefined) throw new Error("child has no pid");
    return pid;
  }

  request<K extends keyof C & string>(cmd: K, args: C[K]["args"], timeoutMs = 120_000): Promise<C[K]["result"]> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${cmd}: no answer in ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as C[K]["result"]);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.send({ id, cmd, args } satisfies Request);
    });
  }

  /** Asks the child to exit (so --cpu-prof can write its profile), then kills it if it lingers. */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    if (this.child.connected) this.child.send({ id: 0, cmd: "exit", args: {} } satisfies Request);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

export type Handlers<C extends CommandMap> = {
  [K in keyof C]: (args: C[K]["args"]) => C[K]["result"] | Promise<C[K]["result"]>;
};

/**
 * Sends to the parent, ignoring a channel that has just closed: the parent may have stopped
 * (a failed check) while this child was still starting, and it exits on "disconnect" anyway.
 */
function toParent(message: Reply | ReadyMessage<unknown>): void {
  if (!process.send) throw new Error("must run as a forked child with an IPC channel");
  if (process.connected) process.send(message, undefined, {}, () => {});
}

/** Child side: answers the parent's requests; "exit" is built in. */
export function serveCommands<C extends CommandMap>(handlers: Handlers<C>): void {
  const send = toParent;
  process.on("message", async (msg: Request) => {
    if (msg.cmd === "exit") process.exit(0);
    const handler = handlers[msg.cmd as keyof C];
    try {
      if (!handler) throw new Error(`unknown command ${msg.cmd}`);
      const result = await handler(msg.args as C[keyof C]["args"]);
      send({ id: msg.id, result } satisfies Reply);
    } catch (err) {
      send({ id: msg.id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies Reply);
    }
  });
  // The parent going away must take its children with it, or they keep ports and CPU.
  process.on("disconnect", () => process.exit(0));
}

export function announceReady<R>(ready: R): void {
  toParent({ ready } satisfies ReadyMessage<R>);
}
