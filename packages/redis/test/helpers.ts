import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import type { FeedEntry, NamespaceFeed, NodeMessage } from "tutti";

const run = promisify(execFile);

/** A key prefix of its own for one test: nothing else on the shared Redis uses it. */
export function randomPrefix(): string {
  return `tutti-test-${randomBytes(6).toString("hex")}`;
}

/** Deletes every key under `prefix` on `redis` (one node). */
export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== "0");
}

/**
 * Skips the test when `what` is missing, with a message; fails it under CI, where every
 * service must be there.
 */
export function missing(t: TestContext, what: string): void {
  if (process.env.CI === "true") throw new Error(`${what} is required under CI`);
  t.skip(`${what} is not available`);
}

/** Whether the shared Redis at 127.0.0.1:6379 answers. */
export async function sharedRedisUp(): Promise<boolean> {
  const probe = new Redis({ host: "127.0.0.1", port: 6379, lazyConnect: true, retryStrategy: () => null });
  probe.on("error", () => {});
  try {
    await probe.connect();
    await probe.ping();
    return true;
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/** Whether a binary is on the PATH. */
export async function have(binary: string): Promise<boolean> {
  try {
    await run(binary, ["--version"]);
    return true;
  } catch {
    return false;
  }
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** The redis-servers this process started: stopped with it, even when a timeout kills it. */
const started = new Set<ChildProcess>();
const dirs = new Set<string>();
function stopStarted(): void {
  for (const child of started) child.kill("SIGKILL");
  started.clear();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}
process.once("exit", stopStarted);
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    stopStarted();
    process.exit(128 + (signal === "SIGTERM" ? 15 : 2));
  });
}

/** A redis-server of the test's own, on a free port, without persistence. */
export class OwnRedis {
  private process: ChildProcess | undefined;
  readonly dir = mkdtempSync(join(tmpdir(), "tutti-redis-"));

  private constructor(
    readonly port: number,
    private readonly extra: readonly string[],
  ) {
    dirs.add(this.dir);
  }

  static async start(extra: readonly string[] = [], port?: number): Promise<OwnRedis> {
    const server = new OwnRedis(port ?? (await freePort()), extra);
    await server.restart();
    return server;
  }

  /** Starts it (again) on the same port; resolves once it answers. */
  async restart(): Promise<void> {
    const child = spawn(
      "redis-server",
      [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        this.dir,
        ...this.extra,
      ],
      { stdio: "ignore" },
    );
    this.process = child;
    started.add(child);
    child.once("exit", () => started.delete(child));
    for (let attempt = 0; ; attempt++) {
      try {
        await run("redis-cli", ["-p", String(this.port), "ping"]);
        return;
      } catch (error) {
        if (attempt > 200 || child.exitCode !== null) throw error;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    }
  }

  /** Stops it (SIGKILL: no goodbye to the clients); resolves once it exited. */
  async stop(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (child === undefined || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGKILL");
    });
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
    dirs.delete(this.dir);
  }
}

/** A feed that records what it gets, and lets a test await a condition on it. */
export class RecordingFeed implements NamespaceFeed {
  readonly entries: FeedEntry[] = [];
  readonly messages: { message: NodeMessage; from: string }[] = [];
  readonly lost: boolean[] = [];
  private waiters: { check: () => boolean; resolve: () => void }[] = [];

  onEntry(entry: FeedEntry): void {
    this.entries.push(entry);
    this.poke();
  }

  onMessage(message: NodeMessage, from: string): void {
    this.messages.push({ message, from });
    this.poke();
  }

  onFeedLost(info: { readonly historyIntact: boolean }): void {
    this.lost.push(info.historyIntact);
    this.poke();
  }

  /** Resolves once `check` holds (checked now and after each delivery). */
  until(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ check, resolve }));
  }

  /** The events (first argument) of the entries, in arrival order. */
  events(): unknown[] {
    return this.entries.map((entry) => entry.data[0]);
  }

  private poke(): void {
    this.waiters = this.waiters.filter((waiter) => {
      if (!waiter.check()) return true;
      waiter.resolve();
      return false;
    });
  }
}

/** Resolves with the arguments of the next `event` of `emitter` that passes `filter`. */
export function next<T extends unknown[]>(
  emitter: {
    on(event: string, listener: (...args: T) => void): unknown;
    off(event: string, listener: (...args: T) => void): unknown;
  },
  event: string,
  filter: (...args: T) => boolean = () => true,
): Promise<T> {
  return new Promise((resolve) => {
    const listener = (...args: T) => {
      if (!filter(...args)) return;
      emitter.off(event, listener);
      resolve(args);
    };
    emitter.on(event, listener);
  });
}

/** Resolves once `check` holds, asking again every 20 ms (for state that announces no event). */
export async function eventually(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** A free port whose Redis Cluster bus port (port + 10000) is free too. */
export async function freeClusterPort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port + 10000 > 65535) continue;
    const bus = createServer();
    const free = await new Promise<boolean>((resolve) => {
      bus.once("error", () => resolve(false));
      bus.listen(port + 10000, "127.0.0.1", () => resolve(true));
    });
    if (free) {
      await new Promise<void>((resolve) => bus.close(() => resolve()));
      return port;
    }
  }
}

/** A Redis Cluster of `masters` masters of the test's own; throws when it cannot be formed. */
export async function startRedisCluster(
  masters: number,
): Promise<{ servers: OwnRedis[]; ports: number[]; destroy(): Promise<void> }> {
  const servers: OwnRedis[] = [];
  const destroy = async () => {
    await Promise.all(servers.map((server) => server.destroy()));
  };
  try {
    for (let i = 0; i < masters; i++) {
      servers.push(
        await OwnRedis.start(
          ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000"],
          await freeClusterPort(),
        ),
      );
    }
    const ports = servers.map((server) => server.port);
    await run(
      "redis-cli",
      ["--cluster", "create", ...ports.map((port) => `127.0.0.1:${port}`), "--cluster-replicas", "0", "--cluster-yes"],
      { timeout: 20_000 },
    );
    for (const port of ports) {
      for (let attempt = 0; ; attempt++) {
        const { stdout } = await run("redis-cli", ["-p", String(port), "cluster", "info"]);
        if (/cluster_state:ok/.test(stdout)) break;
        if (attempt > 400) throw new Error(`the cluster did not become ok on port ${port}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    }
    return { servers, ports, destroy };
  } catch (error) {
    await destroy();
    throw error;
  }
}

/**
 * A balancer that is not sticky, for HTTP long-polling: each request goes to the next upstream
 * in turn. Upstreams are reached from 127.0.0.2 so the nodes tell it from each other's relays.
 */
export async function roundRobin(ports: readonly number[]): Promise<{ url: string; close(): Promise<void> }> {
  const { createServer: createHttpServer, request, Agent } = await import("node:http");
  const agent = new Agent({ keepAlive: true });
  let turn = 0;
  const server = createHttpServer((req, res) => {
    const port = ports[turn++ % ports.length] as number;
    const headers = { ...req.headers };
    delete headers.connection;
    const upstream = request(
      { host: "127.0.0.1", port, localAddress: "127.0.0.2", method: req.method, path: req.url, headers, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    url: `http://127.0.0.1:${address.port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
