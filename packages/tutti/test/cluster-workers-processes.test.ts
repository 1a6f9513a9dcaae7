/**
 * Every core of one machine, with real processes: a primary (`runCluster`) forks 2 workers that
 * listen on one port (node:cluster hands each connection to one of them); official socket.io-client
 * WebSocket clients spread over both. Asserts who got what; a request that waited out its 20 s
 * timeout answers with an error, so "did not wait" is checked by outcome, not by duration.
 */
import assert from "node:assert/strict";
import { type ChildProcess, fork } from "node:child_process";
import { get } from "node:http";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { type Socket as ClientSocket, io as connect } from "socket.io-client";

const fixture = fileURLToPath(new URL("./fixtures/cluster-app.ts", import.meta.url));

interface Event {
  ev: string;
  [field: string]: unknown;
}

/** The primary's reports, in order; `next` waits for the first not yet taken that matches. */
class Reports {
  readonly #seen: Event[] = [];
  readonly #waiting: { match: (e: Event) => boolean; resolve: (e: Event) => void }[] = [];

  push(event: Event): void {
    const i = this.#waiting.findIndex((w) => w.match(event));
    if (i >= 0) this.#waiting.splice(i, 1)[0]?.resolve(event);
    else this.#seen.push(event);
  }

  next(match: (e: Event) => boolean, what: string): Promise<Event> {
    const i = this.#seen.findIndex(match);
    if (i >= 0) return Promise.resolve(this.#seen.splice(i, 1)[0] as Event);
    return new Promise<Event>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no report: ${what}`)), 20_000);
      this.#waiting.push({
        match,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  }
}

const started: ChildProcess[] = [];
const pids = new Set<number>();
const clients: ClientSocket[] = [];

after(() => {
  for (const client of clients) client.close();
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGCONT");
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

function startPrimary(env: Record<string, string> = {}): { primary: ChildProcess; reports: Reports } {
  const reports = new Reports();
  const primary = fork(fixture, [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    env: { ...process.env, ...env },
  });
  started.push(primary);
  primary.on("message", (message: Event) => {
    if (typeof message.pid === "number") pids.add(message.pid);
    reports.push(message);
  });
  return { primary, reports };
}

function ask<T>(client: ClientSocket, event: string, ...args: unknown[]): Promise<T> {
  return client.timeout(25_000).emitWithAck(event, ...args) as Promise<T>;
}

async function connectClient(port: number): Promise<{ client: ClientSocket; pid: number }> {
  const client = connect(`http://127.0.0.1:${port}`, {
    transports: ["websocket"],
    forceNew: true,
    reconnectionDelay: 100,
    reconnectionDelayMax: 300,
  });
  clients.push(client);
  await new Promise<void>((resolve, reject) => {
    client.once("connect", resolve);
    client.once("connect_error", reject);
  });
  return { client, pid: await ask<number>(client, "whoami") };
}

/** Asks until `check` holds: the workers learn of each other one IPC hop after the primary. */
async function until<T>(get: () => Promise<T>, check: (value: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await get();
    if (check(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`never: ${what}`);
}

/** One request on a connection of its own: the next connection goes to the next worker. */
function shiftTurn(port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    get({ host: "127.0.0.1", port, path: "/", agent: false }, (res) => {
      res.resume();
      res.on("end", resolve);
    }).on("error", reject);
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test("2 workers on one port: broadcasts, fetchSockets and server-side acks across them; a killed worker is replaced, a stopped one stops being waited for", async () => {
  const { primary, reports } = startPrimary();
  const first = await reports.next((e) => e.ev === "listening", "first worker listening");
  const second = await reports.next((e) => e.ev === "listening", "second worker listening");
  assert.equal(first.port, second.port, "the workers share one port");
  assert.notEqual(first.pid, second.pid);
  const port = first.port as number;
  const tagOf = new Map<number, string>([
    [first.pid as number, first.tag as string],
    [second.pid as number, second.tag as string],
  ]);

  // clients spread over both workers (the primary hands out connections round-robin)
  const on = new Map<number, ClientSocket[]>();
  for (let i = 0; i < 20 && (on.size < 2 || i < 6); i++) {
    const { client, pid } = await connectClient(port);
    on.set(pid, [...(on.get(pid) ?? []), client]);
  }
  assert.equal(on.size, 2, "clients landed on both workers");
  const [pidA, pidB] = [...on.keys()] as [number, number];
  const a = (on.get(pidA) as ClientSocket[])[0] as ClientSocket;
  const b = (on.get(pidB) as ClientSocket[])[0] as ClientSocket;
  await until(
    () => ask<number>(a, "count"),
    (n) => n === 2,
    "A counts 2 servers",
  );
  await until(
    () => ask<number>(b, "count"),
    (n) => n === 2,
    "B counts 2 servers",
  );

  // a room broadcast from A, with binary, reaches every client on both workers
  const everyone = [...on.values()].flat();
  const got = everyone.map(
    (client) =>
      new Promise<[number, Buffer]>((resolve) =>
        client.once("news", (pid: number, payload: Uint8Array) => resolve([pid, Buffer.from(payload)])),
      ),
  );
  await ask(a, "shout", Buffer.from([0, 1, 2, 255]));
  for (const [pid, payload] of await Promise.all(got)) {
    assert.equal(pid, pidA);
    assert.deepEqual([...payload], [0, 1, 2, 255]);
  }

  // fetchSockets sees both workers' sockets; serverSideEmitWithAck gets the other worker's answer
  const fetched = await ask<{ ok: boolean; pids: number[] }>(a, "fetch");
  assert.equal(fetched.ok, true);
  assert.deepEqual(
    [...fetched.pids].sort(),
    everyone.map((c) => [...on].find(([, list]) => list.includes(c))?.[0]).sort(),
  );
  assert.deepEqual(await ask(a, "ask"), { ok: true, answers: [pidB] });

  // kill -9 B: requests made meanwhile end without the timeout; B's clients reconnect to A or
  // to B's replacement, which comes up
  const bClients = on.get(pidB) as ClientSocket[];
  const reconnected = bClients.map(
    (client) => new Promise<void>((resolve) => client.io.once("reconnect", () => resolve())),
  );
  process.kill(pidB, "SIGKILL");
  const meanwhile = await ask<{ ok: boolean }>(a, "ask");
  assert.equal(meanwhile.ok, true, JSON.stringify(meanwhile));
  assert.deepEqual(await reports.next((e) => e.ev === "down", "B down"), {
    ev: "down",
    tag: tagOf.get(pidB),
    reason: "exit",
  });
  const replacement = await reports.next((e) => e.ev === "listening", "B's replacement listening");
  const pidC = replacement.pid as number;
  assert.notEqual(pidC, pidB);
  assert.equal(replacement.port, port);
  await Promise.all(reconnected);
  for (const client of bClients) assert.ok([pidA, pidC].includes(await ask<number>(client, "whoami")));
  await until(
    () => ask<number>(a, "count"),
    (n) => n === 2,
    "serverCount back to 2",
  );
  const fetchedAfter = await ask<{ ok: boolean; pids: number[] }>(a, "fetch");
  assert.equal(fetchedAfter.ok, true);
  assert.equal(fetchedAfter.pids.length, everyone.length);
  assert.ok(!fetchedAfter.pids.includes(pidB));

  // SIGSTOP C: after the heartbeat timeout A's requests no longer wait for it
  process.kill(pidC, "SIGSTOP");
  assert.deepEqual(await reports.next((e) => e.ev === "down", "C removed"), {
    ev: "down",
    tag: replacement.tag,
    reason: "timeout",
  });
  await until(
    () => ask<number>(a, "count"),
    (n) => n === 1,
    "A counts 1 server",
  );
  assert.deepEqual(await ask(a, "ask"), { ok: true, answers: [] });
  const alone = await ask<{ ok: boolean; pids: number[] }>(a, "fetch");
  assert.equal(alone.ok, true);
  assert.ok(alone.pids.every((pid) => pid === pidA));
  // SIGCONT: C joins again
  process.kill(pidC, "SIGCONT");
  await reports.next((e) => e.ev === "up" && e.tag === replacement.tag, "C joins again");
  await until(
    () => ask<number>(a, "count"),
    (n) => n === 2,
    "serverCount back to 2 after SIGCONT",
  );
  assert.deepEqual(await ask(a, "ask"), { ok: true, answers: [pidC] });

  // SIGTERM to the primary: forwarded to the workers, and it exits once they have
  for (const client of clients) client.close();
  const exited = new Promise<number | null>((resolve) => primary.once("exit", (code) => resolve(code)));
  primary.kill("SIGTERM");
  assert.equal(await exited, 0);
  assert.equal(alive(pidA), false);
  assert.equal(alive(pidC), false);
});

test("no sticky sessions: polling-only clients on 2 workers connect and exchange messages, their requests relayed to the owner (JSON IPC: binary still arrives as binary)", async () => {
  const { primary, reports } = startPrimary({ TUTTI_SERIALIZATION: "json" });
  const first = await reports.next((e) => e.ev === "listening", "first worker listening");
  await reports.next((e) => e.ev === "listening", "second worker listening");
  const port = first.port as number;

  // agent: false: a new TCP connection per request, so each request is handed to either worker
  const polling: { client: ClientSocket; pid: number }[] = [];
  for (let i = 0; i < 20 && (i < 6 || new Set(polling.map((p) => p.pid)).size < 2); i++) {
    // the primary deals connections out in turn: a client's own requests may keep the handshakes
    // on one worker, so one extra connection shifts the turn
    if (i > 0 && new Set(polling.map((p) => p.pid)).size < 2) await shiftTurn(port);
    const client = connect(`http://127.0.0.1:${port}`, { transports: ["polling"], forceNew: true, agent: false });
    clients.push(client);
    await new Promise<void>((resolve, reject) => {
      client.once("connect", resolve);
      client.once("connect_error", reject);
    });
    polling.push({ client, pid: await ask<number>(client, "whoami") });
  }
  const owners = new Set(polling.map((p) => p.pid));
  assert.equal(owners.size, 2, "sessions opened on both workers");
  for (const pid of owners) {
    const client = (polling.find((p) => p.pid === pid) as { client: ClientSocket }).client;
    await until(
      () => ask<number>(client, "count"),
      (n) => n === 2,
      "both workers see each other",
    );
  }

  // every client shouts once; every client hears every shout
  const heard = polling.map(
    ({ client }) =>
      new Promise<string[]>((resolve) => {
        const got: string[] = [];
        client.on("news", (_pid: number, payload: { text: string; bytes: Uint8Array }) => {
          got.push(`${payload.text}:${[...Buffer.from(payload.bytes)].join(",")}`);
          if (got.length === polling.length) resolve(got);
        });
      }),
  );
  await Promise.all(
    polling.map(({ client }, i) => ask(client, "shout", { text: `m${i}`, bytes: Buffer.from([i, 255]) })),
  );
  const expected = polling.map((_, i) => `m${i}:${i},255`).sort();
  for (const got of await Promise.all(heard)) assert.deepEqual([...got].sort(), expected);

  // the requests that reached the other worker were relayed to the owner, none refused
  const relays = await ask<{
    ok: boolean;
    stats: { relayedRequests: number; refusedUnknown: number; refusedSignature: number }[];
  }>(polling[0]?.client as ClientSocket, "relays");
  assert.equal(relays.ok, true);
  assert.equal(relays.stats.length, 2);
  assert.ok(relays.stats.reduce((n, s) => n + s.relayedRequests, 0) > 0, "some requests were relayed");
  assert.equal(
    relays.stats.reduce((n, s) => n + s.refusedUnknown + s.refusedSignature, 0),
    0,
  );

  for (const client of clients) client.close();
  const exited = new Promise<number | null>((resolve) => primary.once("exit", (code) => resolve(code)));
  primary.kill("SIGTERM");
  assert.equal(await exited, 0);
});
