/**
 * The Server API (socket.io 4.8's) driven by the official socket.io-client: rooms, broadcasts,
 * broadcast acks, socket queries, namespaces (static and dynamic), adapter events, catch-all
 * listeners, socket middleware, reserved names, the engine, the client bundle and the ways to
 * create and attach a server.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createServer, type Server as HttpServer } from "node:http";
import { createRequire } from "node:module";
import { type AddressInfo, createServer as createNetServer } from "node:net";
import { dirname, join } from "node:path";
import { describe, type TestContext, test } from "node:test";
import { Socket as EngineClient } from "engine.io-client";
import { Server as OfficialServer } from "socket.io";
import { type Socket as ClientSocket, io as ioClient, Manager } from "socket.io-client";
import {
  type ConnectionError,
  type EngineSession,
  type Namespace,
  ParentNamespace,
  Server,
  type Socket as ServerSocket,
} from "../src/index.js";
import { FakeClock } from "../src/testing/index.js";
import { http } from "./helpers.js";
import { connected, type RunningIo, startIo, type TransportMode, waitFor } from "./sio-helpers.js";

// ---- helpers ----

interface Pair {
  client: ClientSocket;
  socket: ServerSocket;
}

/** Starts a server that is closed after the test. */
async function start(t: TestContext, opts: Parameters<typeof startIo>[0] = {}, mode?: TransportMode) {
  const s = await startIo(opts, mode);
  t.after(() => s.close());
  return s;
}

/** The server-side socket of a connected client. */
function serverSocket(io: Server, nsp: string, client: ClientSocket): ServerSocket {
  const socket = io.namespaces.get(nsp)?.sockets.get(client.id as string);
  assert.ok(socket, `no server socket for ${client.id} in ${nsp}`);
  return socket;
}

/** Connects one official client to `nsp` and returns it with its server-side socket. */
async function connectOne(s: RunningIo, nsp = "/", opts: Parameters<RunningIo["client"]>[1] = {}): Promise<Pair> {
  const client = s.client(nsp, opts);
  await connected(client);
  return { client, socket: serverSocket(s.io, nsp, client) };
}

async function connectMany(s: RunningIo, n: number, nsp = "/"): Promise<Pair[]> {
  return Promise.all(Array.from({ length: n }, () => connectOne(s, nsp)));
}

/** Rejects when `promise` does not settle within `ms`: a bound against hangs, not a timing assertion. */
function within<T>(promise: Promise<T>, what: string, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

const FENCE = "__fence";

/** Every event the client receives except fences, as `[event, ...args]`. */
function record(client: ClientSocket): unknown[][] {
  const log: unknown[][] = [];
  client.onAny((ev: string, ...args: unknown[]) => {
    if (ev !== FENCE) log.push([ev, ...args]);
  });
  return log;
}

let fenceSeq = 0;

/**
 * Sends a regular event to each pair's client after whatever was sent before, and waits until
 * each has it: anything emitted earlier that did not arrive before it was never sent.
 */
async function fence(pairs: readonly Pair[]): Promise<void> {
  const token = ++fenceSeq;
  const arrivals = pairs.map(
    ({ client }) =>
      new Promise<void>((resolve) => {
        const onFence = (got: number): void => {
          if (got !== token) return;
          client.off(FENCE, onFence);
          resolve();
        };
        client.on(FENCE, onFence);
      }),
  );
  for (const { socket } of pairs) socket.emit(FENCE, token);
  await within(Promise.all(arrivals), "fence");
}

type AckResult = [Error | null, unknown[]];

/** Calls `emit` with a broadcast ack callback and resolves with what the callback got. */
function broadcastAck(emit: (callback: (err: Error | null, responses: unknown[]) => void) => void): Promise<AckResult> {
  return within(
    new Promise<AckResult>((resolve) => {
      emit((err, responses) => resolve([err, responses]));
    }),
    "broadcast ack",
  );
}

/** The reason of the next "disconnect" (client or server socket). */
async function reason(socket: ClientSocket | ServerSocket): Promise<string> {
  const [why] = await within(waitFor<[string, unknown?]>(socket, "disconnect"), "disconnect");
  return why;
}

function sorted(values: readonly unknown[]): unknown[] {
  return [...values].sort((a, b) => String(a).localeCompare(String(b)));
}

function reservedError(name: string): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof Error);
    assert.equal(err.message, `"${name}" is a reserved event name`);
    return true;
  };
}

async function freePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

async function listen(server: HttpServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

/** An official client outside startIo, closed after the test. */
function rawClient(t: TestContext, url: string, opts: Parameters<typeof ioClient>[1] = {}): ClientSocket {
  const client = ioClient(url, { forceNew: true, transports: ["websocket"], reconnection: false, ...opts });
  t.after(() => {
    client.io.engine?.close();
    client.disconnect();
  });
  return client;
}

// ---- rooms and broadcasts, over both transports ----

for (const mode of ["websocket", "polling"] as const) {
  describe(`rooms and broadcasts (${mode})`, () => {
    test("join a room and an array of rooms, leave; socket.rooms holds the socket's own id", async (t) => {
      const s = await start(t, {}, mode);
      const [a, b] = await connectMany(s, 2);
      assert.ok(a && b);
      assert.deepEqual(a.socket.rooms, new Set([a.socket.id]));
      await a.socket.join("one");
      await a.socket.join(["two", "three"]);
      await b.socket.join(["two"]);
      assert.deepEqual(a.socket.rooms, new Set([a.socket.id, "one", "two", "three"]));
      const rooms = s.io.of("/").adapter.rooms;
      assert.deepEqual(rooms.get("two"), new Set([a.socket.id, b.socket.id]));
      await a.socket.leave("two");
      assert.deepEqual(a.socket.rooms, new Set([a.socket.id, "one", "three"]));
      assert.deepEqual(rooms.get("two"), new Set([b.socket.id]));
      await a.socket.leave("one");
      assert.equal(rooms.has("one"), false);
      // leaving a room the socket is not in is harmless
      await a.socket.leave("never-joined");
      assert.deepEqual(a.socket.rooms, new Set([a.socket.id, "three"]));
    });

    test("io.to / in / except, arrays and chains reach each matching socket once", async (t) => {
      const s = await start(t, {}, mode);
      const pairs = await connectMany(s, 3);
      const [p0, p1, p2] = pairs;
      assert.ok(p0 && p1 && p2);
      const logs = pairs.map((p) => record(p.client));
      await p0.socket.join(["a", "b"]);
      await p1.socket.join("b");
      await p2.socket.join("c");

      s.io.to("a").emit("e", 1);
      s.io.to(["a", "b"]).emit("e", 2);
      s.io.except("a").emit("e", 3);
      s.io.to("b").except("a").emit("e", 4);
      s.io.in("c").emit("e", 5);
      s.io.to("a").to("c").emit("e", 6);
      s.io.to("a").to("b").emit("e", 7);
      s.io.to("nobody").emit("e", 8);
      s.io.except(["a", "c"]).emit("e", 9);
      s.io.to(p2.socket.id).emit("e", 10);
      s.io.emit("e", 11);
      await fence(pairs);

      const numbers = logs.map((log) => log.map((entry) => entry[1]));
      assert.deepEqual(numbers[0], [1, 2, 6, 7, 11]);
      assert.deepEqual(numbers[1], [2, 3, 4, 7, 9, 11]);
      assert.deepEqual(numbers[2], [3, 5, 6, 10, 11]);
    });

    test("socket.to(room) and socket.broadcast exclude the sender", async (t) => {
      const s = await start(t, {}, mode);
      const pairs = await connectMany(s, 3);
      const [p0, p1, p2] = pairs;
      assert.ok(p0 && p1 && p2);
      const logs = pairs.map((p) => record(p.client));
      for (const p of pairs) await p.socket.join("r");
      await p2.socket.join("quiet");

      // the usual pattern: a client's event relayed to the others
      p0.socket.on("say", (text: string) => {
        p0.socket.to("r").emit("said", text);
        p0.socket.broadcast.emit("said", `${text}!`);
        p0.socket.to("r").except("quiet").emit("said", `${text}?`);
        p0.socket.in(["r", "quiet"]).emit("said", `${text}.`);
      });
      const relayed = waitFor(p1.client, "said");
      p0.client.emit("say", "hi");
      await relayed;
      await fence(pairs);

      assert.deepEqual(logs[0], []);
      assert.deepEqual(logs[1], [
        ["said", "hi"],
        ["said", "hi!"],
        ["said", "hi?"],
        ["said", "hi."],
      ]);
      assert.deepEqual(logs[2], [
        ["said", "hi"],
        ["said", "hi!"],
        ["said", "hi."],
      ]);
    });

    test("a parent namespace's emit reaches the sockets of all its children", async (t) => {
      const s = await start(t, {}, mode);
      const parent = s.io.of(/^\/room-\d+$/);
      const a = await connectOne(s, "/room-1");
      const b = await connectOne(s, "/room-2");
      const other = await connectOne(s, "/");
      const otherLog = record(other.client);
      const got = [waitFor(a.client, "hi"), waitFor(b.client, "hi")];
      parent.emit("hi", "all");
      assert.deepEqual(await Promise.all(got), [["all"], ["all"]]);
      await fence([other]);
      assert.deepEqual(otherLog, []);
    });
  });
}

// ---- broadcast acks ----

describe("acks from many clients", () => {
  async function answering(t: TestContext, n: number, silent: number[] = []) {
    const s = await start(t);
    const pairs = await connectMany(s, n);
    pairs.forEach(({ client }, i) => {
      client.on("q", (base: number, cb: (answer: number) => void) => {
        if (!silent.includes(i)) cb(base + i);
      });
    });
    return { s, pairs };
  }

  test("io.timeout().emit: every client answers → (null, responses)", async (t) => {
    const { s } = await answering(t, 3);
    const [err, responses] = await broadcastAck((cb) => s.io.timeout(10_000).emit("q", 10, cb));
    assert.equal(err, null);
    assert.deepEqual(sorted(responses), [10, 11, 12]);
  });

  test("without timeout() the ack waits for every client (Tutti; socket.io times out at once)", async (t) => {
    const { s } = await answering(t, 3);
    const [err, responses] = await broadcastAck((cb) => s.io.emit("q", 20, cb));
    assert.equal(err, null);
    assert.deepEqual(sorted(responses), [20, 21, 22]);
  });

  test("a client that does not answer → timeout error with the responses that arrived", async (t) => {
    const { s } = await answering(t, 3, [2]);
    const [err, responses] = await broadcastAck((cb) => s.io.timeout(300).emit("q", 30, cb));
    assert.ok(err instanceof Error);
    assert.equal(err.message, "operation has timed out");
    assert.deepEqual(sorted(responses), [30, 31]);
  });

  test("emitWithAck resolves with an array, rejects with an error carrying .responses", async (t) => {
    const { s, pairs } = await answering(t, 3);
    const all = await within(s.io.timeout(10_000).emitWithAck("q", 40), "emitWithAck");
    assert.ok(Array.isArray(all));
    assert.deepEqual(sorted(all), [40, 41, 42]);

    // one client goes silent
    const silent = pairs[1];
    assert.ok(silent);
    silent.client.off("q");
    silent.client.on("q", () => {});
    await assert.rejects(within(s.io.timeout(300).emitWithAck("q", 50), "emitWithAck"), (err: unknown) => {
      assert.ok(err instanceof Error);
      assert.equal(err.message, "operation has timed out");
      assert.deepEqual(sorted((err as Error & { responses: unknown[] }).responses), [50, 52]);
      return true;
    });
  });

  test("to a room with no sockets → (null, []) without waiting for the timeout", async (t) => {
    const { s } = await answering(t, 2);
    const [err, responses] = await broadcastAck((cb) => s.io.to("nobody").timeout(600_000).emit("q", 0, cb));
    assert.equal(err, null);
    assert.deepEqual(responses, []);
    assert.deepEqual(await within(s.io.to("nobody").timeout(600_000).emitWithAck("q", 0), "empty room"), []);
    // the namespace with no sockets at all
    assert.deepEqual(await within(s.io.of("/empty").timeout(600_000).emitWithAck("q", 0), "empty namespace"), []);
  });

  test("io.to(room).timeout().emit counts only the room's members", async (t) => {
    // the third client never answers: were it counted, the ack would time out
    const { s, pairs } = await answering(t, 3, [2]);
    const [p0, p1, p2] = pairs;
    assert.ok(p0 && p1 && p2);
    const log = record(p2.client);
    await p0.socket.join("r");
    await p1.socket.join("r");
    const [err, responses] = await broadcastAck((cb) => s.io.to("r").timeout(600_000).emit("q", 60, cb));
    assert.equal(err, null);
    assert.deepEqual(sorted(responses), [60, 61]);
    const [err2, responses2] = await broadcastAck((cb) => s.io.except(p2.socket.id).timeout(600_000).emit("q", 70, cb));
    assert.equal(err2, null);
    assert.deepEqual(sorted(responses2), [70, 71]);
    await fence(pairs);
    assert.deepEqual(log, []);
  });

  test("a parent namespace's broadcast ack collects the children's responses", async (t) => {
    const s = await start(t);
    const parent = s.io.of(/^\/kid-\d+$/);
    const a = await connectOne(s, "/kid-1");
    const b = await connectOne(s, "/kid-2");
    a.client.on("q", (cb: (v: string) => void) => cb("a"));
    b.client.on("q", (cb: (v: string) => void) => cb("b"));
    const responses = await within(parent.timeout(600_000).emitWithAck("q"), "parent emitWithAck");
    assert.deepEqual(sorted(responses), ["a", "b"]);
  });
});

// ---- socket queries and remote control ----

describe("fetchSockets, socketsJoin, socketsLeave, disconnectSockets, allSockets", () => {
  test("fetchSockets on io, on a room, with except; fetched sockets expose id, handshake, rooms, data and emit", async (t) => {
    const s = await start(t);
    s.io.on("connection", (socket) => {
      socket.data = { name: socket.handshake.auth.name };
    });
    const pairs: Pair[] = [];
    for (let i = 0; i < 3; i++) pairs.push(await connectOne(s, "/", { auth: { name: `u${i}` }, query: { n: `${i}` } }));
    const [p0, p1, p2] = pairs;
    assert.ok(p0 && p1 && p2);
    await p0.socket.join("r");
    await p1.socket.join(["r", "s"]);

    const all = await s.io.fetchSockets();
    assert.deepEqual(new Set(all.map((x) => x.id)), new Set(pairs.map((p) => p.socket.id)));
    for (const fetched of all) {
      const i = pairs.findIndex((p) => p.socket.id === fetched.id);
      assert.equal(fetched.id, pairs[i]?.client.id);
      assert.equal(fetched.handshake.auth.name, `u${i}`);
      assert.equal(fetched.handshake.query.n, `${i}`);
      assert.equal(fetched.handshake.address, "127.0.0.1");
      assert.equal(typeof fetched.handshake.issued, "number");
      assert.ok(fetched.rooms.has(fetched.id));
      assert.deepEqual(fetched.data, { name: `u${i}` });
    }

    const inR = await s.io.in("r").fetchSockets();
    assert.deepEqual(new Set(inR.map((x) => x.id)), new Set([p0.socket.id, p1.socket.id]));
    const fetched1 = inR.find((x) => x.id === p1.socket.id);
    assert.deepEqual(fetched1?.rooms, new Set([p1.socket.id, "r", "s"]));
    const notR = await s.io.except("r").fetchSockets();
    assert.deepEqual(
      notR.map((x) => x.id),
      [p2.socket.id],
    );
    const rNotS = await s.io.in("r").except("s").fetchSockets();
    assert.deepEqual(
      rNotS.map((x) => x.id),
      [p0.socket.id],
    );
    assert.deepEqual(await s.io.in("nobody").fetchSockets(), []);
    assert.deepEqual(await s.io.of("/other").fetchSockets(), []);

    // a fetched socket can emit, and its data is the socket's own
    const direct = waitFor(p2.client, "direct");
    notR[0]?.emit("direct", "hello");
    assert.deepEqual(await direct, ["hello"]);
    p2.client.on("ask", (cb: (v: string) => void) => cb("answer"));
    assert.equal(await within(notR[0]?.timeout(5000).emitWithAck("ask") as Promise<string>, "fetched ack"), "answer");
  });

  test("allSockets on io, on a room, with except", async (t) => {
    const s = await start(t);
    const pairs = await connectMany(s, 3);
    const [p0, p1, p2] = pairs;
    assert.ok(p0 && p1 && p2);
    await p0.socket.join("r");
    await p1.socket.join("r");
    assert.deepEqual(await s.io.allSockets(), new Set(pairs.map((p) => p.socket.id)));
    assert.deepEqual(await s.io.in("r").allSockets(), new Set([p0.socket.id, p1.socket.id]));
    assert.deepEqual(await s.io.except("r").allSockets(), new Set([p2.socket.id]));
    assert.deepEqual(await s.io.in("r").except(p0.socket.id).allSockets(), new Set([p1.socket.id]));
    assert.deepEqual(await s.io.of("/other").allSockets(), new Set());
  });

  test("socketsJoin and socketsLeave, on io, on a room, with except", async (t) => {
    const s = await start(t);
    const pairs = await connectMany(s, 3);
    const [p0, p1, p2] = pairs;
    assert.ok(p0 && p1 && p2);
    await p0.socket.join("r");
    await p1.socket.join("r");
    const rooms = (p: Pair) => new Set([...p.socket.rooms].filter((room) => room !== p.socket.id));

    s.io.socketsJoin("all");
    s.io.in("r").socketsJoin(["x", "y"]);
    s.io.except("r").socketsJoin("z");
    assert.deepEqual(rooms(p0), new Set(["r", "all", "x", "y"]));
    assert.deepEqual(rooms(p1), new Set(["r", "all", "x", "y"]));
    assert.deepEqual(rooms(p2), new Set(["all", "z"]));

    s.io.except("r").socketsLeave("all");
    s.io.in(p0.socket.id).socketsLeave(["x", "r"]);
    s.io.in("y").except(p0.socket.id).socketsLeave("y");
    assert.deepEqual(rooms(p0), new Set(["all", "y"]));
    assert.deepEqual(rooms(p1), new Set(["r", "all", "x"]));
    assert.deepEqual(rooms(p2), new Set(["z"]));

    // the joined rooms are real: a broadcast to them reaches the members
    const logs = pairs.map((p) => record(p.client));
    s.io.to("all").emit("e", "all");
    s.io.to("z").emit("e", "z");
    await fence(pairs);
    assert.deepEqual(logs, [[["e", "all"]], [["e", "all"]], [["e", "z"]]]);
  });

  test("disconnectSockets() on a room with except, then on io", async (t) => {
    const s = await start(t);
    const pairs = await connectMany(s, 4);
    const [p0, p1, p2, p3] = pairs;
    assert.ok(p0 && p1 && p2 && p3);
    await p0.socket.join("r");
    await p1.socket.join(["r", "keep"]);

    const clientGone = reason(p0.client);
    const serverGone = reason(p0.socket);
    s.io.in("r").except("keep").disconnectSockets();
    assert.equal(await clientGone, "io server disconnect");
    assert.equal(await serverGone, "server namespace disconnect");
    assert.equal(p0.socket.connected, false);
    await fence([p1, p2, p3]);
    for (const p of [p1, p2, p3]) assert.equal(p.client.connected, true);
    assert.equal(s.io.sockets.sockets.size, 3);

    const rest = [p1, p2, p3].map((p) => reason(p.client));
    s.io.disconnectSockets();
    assert.deepEqual(await Promise.all(rest), ["io server disconnect", "io server disconnect", "io server disconnect"]);
    assert.equal(s.io.sockets.sockets.size, 0);
  });

  test("disconnectSockets(true) closes the whole connection, with its other namespaces", async (t) => {
    const s = await start(t);
    s.io.of("/admin");
    const manager = new Manager(s.url, { transports: ["websocket"], reconnection: false });
    const main = manager.socket("/");
    const admin = manager.socket("/admin");
    t.after(() => {
      main.disconnect();
      admin.disconnect();
      manager.engine?.close();
    });
    await connected(main);
    await connected(admin);
    const ssMain = serverSocket(s.io, "/", main);
    const ssAdmin = serverSocket(s.io, "/admin", admin);
    assert.equal(ssMain.conn, ssAdmin.conn, "both namespaces share one engine session");

    // without close: the "/" socket only
    const mainGone = reason(main);
    s.io.disconnectSockets();
    assert.equal(await mainGone, "io server disconnect");
    await fence([{ client: admin, socket: ssAdmin }]);
    assert.equal(admin.connected, true);
    assert.equal(ssAdmin.conn.readyState, "open");

    // with close: the "/" socket, the "/admin" socket and the session
    main.connect();
    await connected(main);
    const ssMain2 = serverSocket(s.io, "/", main);
    const bothGone = [reason(main), reason(admin)];
    const serverGone = [reason(ssMain2), reason(ssAdmin)];
    const sessionClosed = waitFor(ssMain2.conn, "close");
    s.io.in(ssMain2.id).disconnectSockets(true);
    assert.deepEqual(await Promise.all(bothGone), ["io server disconnect", "io server disconnect"]);
    assert.deepEqual(await Promise.all(serverGone), ["server namespace disconnect", "server namespace disconnect"]);
    await sessionClosed;
    assert.equal(s.io.engine.clientsCount, 0);
    assert.equal(s.io.of("/admin").sockets.size, 0);
  });
});

// ---- namespaces ----

describe("namespaces", () => {
  test('io.of("/admin") has its own middleware and connection handler; io.of("admin") is the same', async (t) => {
    const s = await start(t);
    const mainMiddleware: string[] = [];
    s.io.use((socket, next) => {
      mainMiddleware.push(socket.nsp.name);
      next();
    });
    const mainConnections: string[] = [];
    s.io.on("connection", (socket) => mainConnections.push(socket.nsp.name));

    const admin = s.io.of("/admin");
    assert.equal(s.io.of("admin"), admin);
    assert.equal(s.io.namespaces.get("/admin"), admin);
    assert.equal(admin.name, "/admin");
    admin.use((socket, next) => {
      if (socket.handshake.auth.token === "secret") {
        socket.data = { role: "admin" };
        next();
      } else next(Object.assign(new Error("not authorized"), { data: { code: 401 } }));
    });
    const adminConnections: ServerSocket[] = [];
    admin.on("connection", (socket) => adminConnections.push(socket));
    // io.of(name, fn): fn is a connection listener
    const viaOf: ServerSocket[] = [];
    s.io.of("admin", (socket) => viaOf.push(socket));

    const good = await connectOne(s, "/admin", { auth: { token: "secret" } });
    assert.deepEqual(adminConnections, [good.socket]);
    assert.deepEqual(viaOf, [good.socket]);
    assert.equal(good.socket.nsp, admin);
    assert.deepEqual(good.socket.data, { role: "admin" });

    const bad = s.client("/admin", { auth: { token: "wrong" } });
    const [err] = await waitFor<[Error & { data?: unknown }]>(bad, "connect_error");
    assert.equal(err.message, "not authorized");
    assert.deepEqual(err.data, { code: 401 });
    assert.equal(admin.sockets.size, 1);

    // the main namespace's middleware and listener are its own
    assert.deepEqual(mainMiddleware, []);
    assert.deepEqual(mainConnections, []);
    await connectOne(s, "/");
    assert.deepEqual(mainMiddleware, ["/"]);
    assert.deepEqual(mainConnections, ["/"]);
  });

  test("new_namespace fires for static namespaces and for dynamic children, once each", async (t) => {
    const s = await start(t);
    const created: Namespace[] = [];
    s.io.on("new_namespace", (nsp) => created.push(nsp));
    const stat = s.io.of("/static");
    s.io.of("static");
    s.io.of("/static");
    assert.deepEqual(created, [stat]);

    // the parent itself is not announced (as socket.io); its children are, as clients create them
    s.io.of(/^\/dyn-\d+$/);
    assert.equal(created.length, 1);
    await connectOne(s, "/dyn-7");
    assert.equal(created.length, 2);
    assert.equal(created[1]?.name, "/dyn-7");
    assert.equal(created[1], s.io.namespaces.get("/dyn-7"));
    await connectOne(s, "/dyn-7");
    assert.equal(created.length, 2);
  });

  test("a RegExp namespace creates children that inherit its middleware and connection listener", async (t) => {
    const s = await start(t);
    const parent = s.io.of(/^\/dynamic-\d+$/);
    assert.ok(parent instanceof ParentNamespace);
    parent.use((socket, next) => {
      socket.data = { via: "parent", nsp: socket.nsp.name };
      next();
    });
    const connections: ServerSocket[] = [];
    parent.on("connection", (socket) => connections.push(socket));

    const { socket } = await connectOne(s, "/dynamic-101");
    assert.deepEqual(connections, [socket]);
    assert.equal(socket.nsp.name, "/dynamic-101");
    assert.notEqual(socket.nsp, parent);
    assert.ok(parent.children.has(socket.nsp));
    assert.equal(s.io.namespaces.get("/dynamic-101"), socket.nsp);
    assert.deepEqual(socket.data, { via: "parent", nsp: "/dynamic-101" });

    // a second matching name: a second child
    const other = await connectOne(s, "/dynamic-202");
    assert.notEqual(other.socket.nsp, socket.nsp);
    assert.equal(parent.children.size, 2);
    assert.deepEqual(new Set((await parent.fetchSockets()).map((x) => x.id)), new Set([socket.id, other.socket.id]));

    // no name matches: Invalid namespace, and nothing is created
    const bad = s.client("/dynamic-abc");
    const [err] = await waitFor<[Error]>(bad, "connect_error");
    assert.equal(err.message, "Invalid namespace");
    assert.equal(s.io.namespaces.has("/dynamic-abc"), false);

    // without cleanupEmptyChildNamespaces an empty child stays
    const gone = waitFor(socket, "disconnect");
    s.clients.find((c) => c.id === socket.id)?.disconnect();
    await gone;
    assert.equal(s.io.namespaces.get("/dynamic-101"), socket.nsp);
    assert.ok(parent.children.has(socket.nsp));
  });

  test("socket queries on a parent namespace cover its children, rooms and except included", async (t) => {
    const s = await start(t);
    const parent = s.io.of(/^\/team-\d+$/);
    const a = await connectOne(s, "/team-1");
    const b = await connectOne(s, "/team-1");
    const c = await connectOne(s, "/team-2");
    const ids = (list: Iterable<{ id: string } | string>) =>
      new Set([...list].map((x) => (typeof x === "string" ? x : x.id)));
    await a.socket.join("r");
    await c.socket.join("r");

    assert.deepEqual(ids(await parent.fetchSockets()), ids([a.socket, b.socket, c.socket]));
    assert.deepEqual(ids(await parent.in("r").fetchSockets()), ids([a.socket, c.socket]));
    assert.deepEqual(ids(await parent.except("r").fetchSockets()), ids([b.socket]));
    assert.deepEqual(await parent.allSockets(), ids([a.socket, b.socket, c.socket]));
    assert.deepEqual(await parent.in("r").allSockets(), ids([a.socket, c.socket]));
    // checked last, so the rest runs whatever it holds
    const allButRoom = await parent.except("r").allSockets();

    parent.in("r").socketsJoin("joined");
    assert.ok(a.socket.rooms.has("joined") && c.socket.rooms.has("joined"));
    assert.equal(b.socket.rooms.has("joined"), false);

    const logs = [a, b, c].map((p) => record(p.client));
    parent.to("r").emit("e", "room");
    parent.except("r").emit("e", "not room");
    await fence([a, b, c]);
    assert.deepEqual(logs, [[["e", "room"]], [["e", "not room"]], [["e", "room"]]]);

    const gone = reason(b.client);
    parent.except("r").disconnectSockets();
    assert.equal(await gone, "io server disconnect");
    await fence([a, c]);
    assert.equal(a.client.connected && c.client.connected, true);

    assert.deepEqual(allButRoom, ids([b.socket]), "parent.except(room).allSockets() skips the room's sockets");
  });

  test("a function namespace matcher gets the name and auth; a refused name → Invalid namespace", async (t) => {
    const s = await start(t);
    const asked: Array<[string, unknown]> = [];
    const parent = s.io.of((name, auth, next) => {
      asked.push([name, auth]);
      next(null, name === "/ok");
    });
    const connections: string[] = [];
    parent.on("connection", (socket) => connections.push(socket.nsp.name));

    const ok = await connectOne(s, "/ok", { auth: { k: 1 } });
    assert.equal(ok.socket.nsp.name, "/ok");
    assert.deepEqual(connections, ["/ok"]);
    assert.deepEqual(asked, [["/ok", { k: 1 }]]);

    const no = s.client("/nope");
    const [err] = await waitFor<[Error]>(no, "connect_error");
    assert.equal(err.message, "Invalid namespace");
    assert.equal(s.io.namespaces.has("/nope"), false);

    // a matcher that fails passes the name on to the next dynamic namespace
    const second = s.io.of((name, _auth, next) => next(null, name === "/nope"));
    assert.notEqual(second, parent);
    const later = await connectOne(s, "/nope");
    assert.equal(later.socket.nsp.name, "/nope");
    assert.ok((second as ParentNamespace).children.has(later.socket.nsp));
  });

  test("cleanupEmptyChildNamespaces removes a child when its last socket leaves", async (t) => {
    const s = await start(t, { cleanupEmptyChildNamespaces: true });
    const parent = s.io.of(/^\/tmp-\d+$/) as ParentNamespace;
    const created: string[] = [];
    s.io.on("new_namespace", (nsp) => created.push(nsp.name));
    const a = await connectOne(s, "/tmp-1");
    const b = await connectOne(s, "/tmp-1");
    const child = s.io.namespaces.get("/tmp-1");
    assert.ok(child);
    assert.equal(a.socket.nsp, child);
    assert.equal(b.socket.nsp, child);

    let gone = waitFor(a.socket, "disconnect");
    a.client.disconnect();
    await gone;
    assert.equal(s.io.namespaces.get("/tmp-1"), child, "one socket left");
    assert.ok(parent.children.has(child));

    gone = waitFor(b.socket, "disconnect");
    b.client.disconnect();
    await gone;
    assert.equal(s.io.namespaces.has("/tmp-1"), false);
    assert.equal(parent.children.size, 0);

    // the name can come back: a fresh child
    const c = await connectOne(s, "/tmp-1");
    assert.notEqual(c.socket.nsp, child);
    assert.equal(s.io.namespaces.get("/tmp-1"), c.socket.nsp);
    assert.deepEqual(created, ["/tmp-1", "/tmp-1"]);

    // static namespaces are not cleaned up
    const stat = s.io.of("/static");
    const d = await connectOne(s, "/static");
    gone = waitFor(d.socket, "disconnect");
    d.client.disconnect();
    await gone;
    assert.equal(s.io.namespaces.get("/static"), stat);
  });
});

// ---- adapter events ----

test("the adapter emits create-room, join-room, leave-room, delete-room, also on disconnect", async (t) => {
  const s = await start(t);
  const adapter = s.io.of("/").adapter;
  const events: unknown[][] = [];
  for (const ev of ["create-room", "join-room", "leave-room", "delete-room"] as const) {
    adapter.on(ev, (...args: unknown[]) => events.push([ev, ...args]));
  }
  const a = await connectOne(s);
  const id = a.socket.id;
  assert.deepEqual(events.splice(0), [
    ["create-room", id],
    ["join-room", id, id],
  ]);

  await a.socket.join("r");
  assert.deepEqual(events.splice(0), [
    ["create-room", "r"],
    ["join-room", "r", id],
  ]);
  await a.socket.join("r");
  assert.deepEqual(events.splice(0), [], "joining again changes nothing");

  const b = await connectOne(s);
  const id2 = b.socket.id;
  await b.socket.join(["r", "s"]);
  assert.deepEqual(events.splice(0), [
    ["create-room", id2],
    ["join-room", id2, id2],
    ["join-room", "r", id2],
    ["create-room", "s"],
    ["join-room", "s", id2],
  ]);

  await a.socket.leave("r");
  assert.deepEqual(events.splice(0), [["leave-room", "r", id]]);

  // a disconnect leaves every room; "disconnecting" still sees them
  let roomsWhileDisconnecting: Set<string> | undefined;
  b.socket.on("disconnecting", () => {
    roomsWhileDisconnecting = new Set(b.socket.rooms);
  });
  const gone = waitFor(b.socket, "disconnect");
  b.client.disconnect();
  await gone;
  assert.deepEqual(roomsWhileDisconnecting, new Set([id2, "r", "s"]));
  assert.deepEqual(b.socket.rooms, new Set());
  assert.deepEqual(events.splice(0), [
    ["leave-room", id2, id2],
    ["delete-room", id2],
    ["leave-room", "r", id2],
    ["delete-room", "r"],
    ["leave-room", "s", id2],
    ["delete-room", "s"],
  ]);
  assert.deepEqual([...adapter.rooms.keys()], [id]);
});

// ---- catch-all listeners and socket middleware ----

describe("catch-all listeners and socket middleware", () => {
  test("onAny / prependAny / offAny / listenersAny", async (t) => {
    const s = await start(t);
    const { client, socket } = await connectOne(s);
    const calls: unknown[][] = [];
    const first = (...args: unknown[]) => calls.push(["first", ...args]);
    const second = (...args: unknown[]) => calls.push(["second", ...args]);
    socket.onAny(first);
    socket.prependAny(second);
    assert.deepEqual(socket.listenersAny(), [second, first]);

    socket.on("ev", (n: number, cb: (v: number) => void) => cb(n * 2));
    assert.equal(await within(client.emitWithAck("ev", 21), "ack"), 42);
    assert.equal(calls.length, 2);
    assert.deepEqual(
      calls.map((c) => c.slice(0, 3)),
      [
        ["second", "ev", 21],
        ["first", "ev", 21],
      ],
    );
    // the ack function comes last
    assert.equal(typeof calls[0]?.[3], "function");

    calls.length = 0;
    socket.offAny(second);
    assert.deepEqual(socket.listenersAny(), [first]);
    const plain = waitFor(socket, "plain");
    client.emit("plain", "x");
    await plain;
    assert.deepEqual(calls, [["first", "plain", "x"]]);

    calls.length = 0;
    socket.offAny();
    assert.deepEqual(socket.listenersAny(), []);
    const later = waitFor(socket, "plain");
    client.emit("plain", "y");
    await later;
    assert.deepEqual(calls, []);
  });

  test("onAnyOutgoing / prependAnyOutgoing / offAnyOutgoing / listenersAnyOutgoing, broadcasts included", async (t) => {
    const s = await start(t);
    const { client, socket } = await connectOne(s);
    await socket.join("r");
    const calls: unknown[][] = [];
    const first = (...args: unknown[]) => calls.push(["first", ...args]);
    const second = (...args: unknown[]) => calls.push(["second", ...args]);
    socket.onAnyOutgoing(first);
    socket.prependAnyOutgoing(second);
    assert.deepEqual(socket.listenersAnyOutgoing(), [second, first]);

    const steps: Array<[string, unknown, () => void]> = [
      ["direct", 1, () => socket.emit("direct", 1)],
      ["bcast", 2, () => s.io.emit("bcast", 2)],
      ["room", 3, () => s.io.to("r").emit("room", 3)],
      ["local", 4, () => s.io.local.emit("local", 4)],
    ];
    for (const [ev, arg, emit] of steps) {
      const got = waitFor(client, ev);
      emit();
      await got;
      assert.deepEqual(calls.splice(0), [
        ["second", ev, arg],
        ["first", ev, arg],
      ]);
    }

    // an emit with an ack: the listener sees the event without the callback
    client.on("withAck", (n: number, cb: (v: number) => void) => cb(n));
    assert.equal(await within(socket.timeout(5000).emitWithAck("withAck", 5), "ack"), 5);
    assert.deepEqual(calls.splice(0), [
      ["second", "withAck", 5],
      ["first", "withAck", 5],
    ]);
    // a broadcast with an ack too
    assert.deepEqual(await within(s.io.timeout(5000).emitWithAck("withAck", 6), "broadcast ack"), [6]);
    assert.deepEqual(calls.splice(0), [
      ["second", "withAck", 6],
      ["first", "withAck", 6],
    ]);

    // acks the server sends are not outgoing events
    socket.on("ask", (cb: (v: string) => void) => cb("answer"));
    assert.equal(await within(client.emitWithAck("ask"), "ask"), "answer");
    assert.deepEqual(calls, []);

    // a broadcast the socket is excluded from
    const sibling = await connectOne(s);
    const toSibling = waitFor(sibling.client, "notForYou");
    s.io.except(socket.id).emit("notForYou", 7);
    await toSibling;
    assert.deepEqual(calls, []);

    socket.offAnyOutgoing(second);
    assert.deepEqual(socket.listenersAnyOutgoing(), [first]);
    let got = waitFor(client, "direct");
    socket.emit("direct", 8);
    await got;
    assert.deepEqual(calls.splice(0), [["first", "direct", 8]]);

    socket.offAnyOutgoing();
    assert.deepEqual(socket.listenersAnyOutgoing(), []);
    got = waitFor(client, "direct");
    socket.emit("direct", 9);
    await got;
    assert.deepEqual(calls, []);
  });

  test("socket.use sees and modifies event args, and blocks an event with next(err) → 'error'", async (t) => {
    const s = await start(t);
    const { client, socket } = await connectOne(s);
    const seen: unknown[][] = [];
    socket.use((event, next) => {
      seen.push(event.filter((arg) => typeof arg !== "function"));
      if (event[0] === "shout") event[1] = String(event[1]).toUpperCase();
      if (event[0] === "forbidden") {
        next(new Error("not allowed"));
        return;
      }
      next();
    });
    // a second middleware sees the first one's change
    socket.use((event, next) => {
      if (event[0] === "shout") event[1] = `${String(event[1])}!`;
      next();
    });
    let forbiddenCalls = 0;
    socket.on("forbidden", () => forbiddenCalls++);
    socket.on("shout", (text: string, cb: (v: string) => void) => cb(text));
    const errors: Error[] = [];
    socket.on("error", (err) => errors.push(err));

    assert.equal(await within(client.emitWithAck("shout", "hi"), "shout"), "HI!");
    client.emit("forbidden", 1, 2);
    // the later event proves the blocked one was handled (events are processed in order)
    assert.equal(await within(client.emitWithAck("shout", "again"), "shout"), "AGAIN!");
    assert.equal(forbiddenCalls, 0);
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof Error);
    assert.equal(errors[0].message, "not allowed");
    assert.deepEqual(seen, [
      ["shout", "hi"],
      ["forbidden", 1, 2],
      ["shout", "again"],
    ]);
    assert.equal(socket.connected, true);
  });

  test("an event blocked by socket.use with no 'error' listener does not crash the server", async (t) => {
    const s = await start(t);
    const { client, socket } = await connectOne(s);
    socket.use((event, next) => (event[0] === "bad" ? next(new Error("blocked")) : next()));
    let badCalls = 0;
    socket.on("bad", () => badCalls++);
    socket.on("good", (cb: (v: string) => void) => cb("fine"));
    client.emit("bad");
    assert.equal(await within(client.emitWithAck("good"), "good"), "fine");
    assert.equal(badCalls, 0);
    assert.equal(socket.connected, true);
    assert.equal(client.connected, true);
  });
});

// ---- reserved names and serverSideEmit ----

describe("reserved event names and serverSideEmit", () => {
  test("emitting a reserved name throws, on sockets, io, rooms and broadcasts; nothing is sent", async (t) => {
    const s = await start(t);
    const pair = await connectOne(s);
    const { socket } = pair;
    await socket.join("r");
    const log = record(pair.client);
    const attempts: Array<[string, () => unknown]> = [
      ["disconnect", () => socket.emit("disconnect")],
      ["connect", () => s.io.emit("connect")],
      ["disconnecting", () => s.io.to("r").emit("disconnecting")],
      ["newListener", () => socket.emit("newListener")],
      ["removeListener", () => socket.emit("removeListener")],
      ["connect_error", () => s.io.of("/").emit("connect_error")],
      ["disconnect", () => socket.broadcast.emit("disconnect")],
      ["connect", () => socket.to("r").emit("connect")],
      ["disconnecting", () => s.io.timeout(1000).emit("disconnecting", () => {})],
      ["newListener", () => s.io.except("r").emit("newListener")],
      ["disconnect", () => s.io.local.emit("disconnect")],
      ["connect", () => socket.timeout(1000).emit("connect", () => {})],
    ];
    for (const [name, attempt] of attempts) assert.throws(attempt, reservedError(name), name);
    await assert.rejects(s.io.timeout(1000).emitWithAck("connect"), reservedError("connect"));
    await assert.rejects(socket.emitWithAck("disconnect"), reservedError("disconnect"));
    await fence([pair]);
    assert.deepEqual(log, []);
  });

  test("serverSideEmit with a reserved name throws", () => {
    const io = new Server();
    assert.throws(() => io.serverSideEmit("connect"), reservedError("connect"));
    assert.throws(() => io.of("/x").serverSideEmit("connect"), reservedError("connect"));
  });

  test("serverSideEmit refuses the namespace's own reserved names: connection, new_namespace (as socket.io)", () => {
    // A cluster adapter delivers serverSideEmit to the namespace's listeners: "connection" would
    // reach the connection handlers with a non-socket argument.
    const io = new Server();
    for (const name of ["connect", "connection", "new_namespace"]) {
      assert.throws(() => io.serverSideEmit(name), reservedError(name), name);
    }
  });

  test("serverSideEmit accepts names reserved for sockets only, such as disconnect (as socket.io)", () => {
    const io = new Server();
    for (const name of ["disconnect", "disconnecting", "newListener"]) {
      assert.equal(io.serverSideEmit(name), true, name);
    }
  });

  test("serverSideEmit with no other nodes returns true and delivers nothing; acks get (null, [])", async (t) => {
    const s = await start(t);
    const heard: unknown[][] = [];
    s.io.on("x", (...args: unknown[]) => heard.push(args));
    const pair = await connectOne(s);
    const log = record(pair.client);
    assert.equal(s.io.serverSideEmit("x", 1), true);
    assert.equal(s.io.of("/admin").serverSideEmit("x", 2), true);
    const [err, responses] = await broadcastAck((cb) => s.io.serverSideEmit("x", 3, cb));
    assert.equal(err, null);
    assert.deepEqual(responses, []);
    assert.deepEqual(await within(s.io.serverSideEmitWithAck("x"), "serverSideEmitWithAck"), []);
    assert.deepEqual(await within(s.io.of("/admin").serverSideEmitWithAck("x", 4), "serverSideEmitWithAck"), []);
    await fence([pair]);
    assert.deepEqual(heard, []);
    assert.deepEqual(log, []);
  });
});

// ---- the engine, io.sockets, flags ----

describe("engine, io.sockets and broadcast flags", () => {
  test("io.engine: clientsCount, connection and connection_error", async (t) => {
    const s = await start(t);
    const sessions: EngineSession[] = [];
    s.io.engine.on("connection", (session) => sessions.push(session));
    const pairs = await connectMany(s, 2);
    assert.equal(s.io.engine.clientsCount, 2);
    assert.deepEqual(new Set(sessions.map((x) => x.id)), new Set(pairs.map((p) => p.socket.conn.id)));

    const closed = waitFor(pairs[0]?.socket.conn as EngineSession, "close");
    pairs[0]?.client.disconnect();
    await closed;
    assert.equal(s.io.engine.clientsCount, 1);

    const refused = waitFor<[ConnectionError]>(s.io.engine, "connection_error");
    const res = await http(s.port, "GET", "/socket.io/?EIO=4&transport=bogus");
    assert.equal(res.status, 400);
    assert.deepEqual(JSON.parse(res.body), { code: 0, message: "Transport unknown" });
    const [err] = await refused;
    assert.equal(err.code, 0);
    assert.equal(err.message, "Transport unknown");
    assert.equal(err.req.url, "/socket.io/?EIO=4&transport=bogus");
  });

  test('io.sockets is io.of("/"), and io.on("connection") is io.sockets.on("connection")', async (t) => {
    const s = await start(t);
    assert.equal(s.io.sockets, s.io.of("/"));
    assert.equal(s.io.sockets.name, "/");
    const onIo = (_socket: ServerSocket): void => {};
    s.io.on("connection", onIo);
    assert.ok(s.io.sockets.listeners("connection").includes(onIo));
    assert.equal(s.io.listenerCount("connection"), s.io.sockets.listenerCount("connection"));

    const viaIo = new Promise<ServerSocket>((resolve) => s.io.once("connection", resolve));
    const viaNsp = waitFor<[ServerSocket]>(s.io.sockets, "connection");
    const pair = await connectOne(s);
    assert.equal(await viaIo, pair.socket);
    assert.deepEqual(await viaNsp, [pair.socket]);

    s.io.off("connection", onIo);
    assert.equal(s.io.sockets.listeners("connection").includes(onIo), false);
  });

  test("compress(false), volatile (idle websocket clients) and local broadcasts deliver", async (t) => {
    const s = await start(t);
    const pairs = await connectMany(s, 2);
    const [p0] = pairs;
    assert.ok(p0);
    for (const p of pairs) await p.socket.join("r");
    // one emit per step: a volatile packet is dropped when the transport is busy
    const steps: Array<[string, readonly Pair[], () => unknown]> = [
      ["volatile", pairs, () => s.io.volatile.emit("m", "volatile")],
      ["compress", pairs, () => s.io.compress(false).emit("m", "compress")],
      ["local", pairs, () => s.io.local.emit("m", "local")],
      ["room flags", pairs, () => s.io.to("r").compress(false).volatile.emit("m", "room flags")],
      ["local room", pairs, () => s.io.local.to("r").except("nobody").emit("m", "local room")],
      ["nsp volatile", pairs, () => s.io.of("/").volatile.compress(true).emit("m", "nsp volatile")],
      ["socket volatile", [p0], () => p0.socket.volatile.emit("m", "socket volatile")],
      ["socket compress", [p0], () => p0.socket.compress(false).emit("m", "socket compress")],
      [
        "socket broadcast",
        pairs.slice(1),
        () => p0.socket.broadcast.volatile.compress(false).emit("m", "socket broadcast"),
      ],
      ["socket local", pairs.slice(1), () => p0.socket.local.emit("m", "socket local")],
    ];
    for (const [label, targets, emit] of steps) {
      const got = targets.map((p) => within(waitFor(p.client, "m"), label));
      assert.equal(emit(), true);
      assert.deepEqual(
        await Promise.all(got),
        targets.map(() => [label]),
        label,
      );
    }
  });
});

// ---- serving the client bundle ----

describe("serveClient", () => {
  test("serves socket.io.js and socket.io.min.js with an ETag; If-None-Match → 304", async (t) => {
    const s = await start(t);
    assert.equal(s.io.serveClient(), true);
    for (const file of ["socket.io.js", "socket.io.min.js"]) {
      const res = await http(s.port, "GET", `/socket.io/${file}`);
      assert.equal(res.status, 200, file);
      assert.match(String(res.headers["content-type"]), /^application\/javascript/);
      const etag = res.headers.etag;
      assert.ok(etag, `${file} has an ETag`);
      assert.ok(res.raw.length > 1000, `${file} has a body`);
      assert.match(res.body, /io|Manager/);
      const again = await http(s.port, "GET", `/socket.io/${file}`, undefined, { "If-None-Match": etag });
      assert.equal(again.status, 304, file);
      assert.equal(again.raw.length, 0);
    }
    // the engine still answers its own requests beside the bundle
    const handshake = await http(s.port, "GET", "/socket.io/?EIO=4&transport=polling");
    assert.equal(handshake.status, 200);
  });

  test("a weak If-None-Match (W/etag, as compressing proxies send back) → 304, as socket.io", async (t) => {
    const s = await start(t);
    const res = await http(s.port, "GET", "/socket.io/socket.io.js");
    const etag = res.headers.etag;
    assert.ok(etag);
    const again = await http(s.port, "GET", "/socket.io/socket.io.js", undefined, { "If-None-Match": `W/${etag}` });
    assert.equal(again.status, 304);
  });

  test("serves the bundles socket.io 4.8 serves, from socket.io-client's dist/, with socket.io's headers; no others", async (t) => {
    const s = await start(t);
    // the official server beside it, for its answers
    const reference = createServer();
    const official = new OfficialServer(reference);
    t.after(() => official.close());
    const referencePort = await listen(reference);
    const dist = join(dirname(createRequire(import.meta.url).resolve("socket.io-client")), "..", "..", "dist");
    const version = (JSON.parse(readFileSync(join(dist, "..", "package.json"), "utf8")) as { version: string }).version;
    const files = ["socket.io.js", "socket.io.min.js", "socket.io.msgpack.min.js", "socket.io.esm.min.js"];
    for (const file of files.flatMap((name) => [name, `${name}.map`])) {
      const res = await http(s.port, "GET", `/socket.io/${file}`);
      const theirs = await http(referencePort, "GET", `/socket.io/${file}`);
      assert.equal(res.status, 200, file);
      assert.equal(theirs.status, 200, file);
      for (const header of ["content-type", "cache-control"])
        assert.equal(res.headers[header], theirs.headers[header], `${file}: ${header}`);
      assert.equal(res.headers.etag, `"${version}"`, file);
      assert.deepEqual(res.raw, readFileSync(join(dist, file)), file);
    }
    // names the pattern socket.io(.msgpack|.esm)?(.min)?.js would take, which socket.io does not serve
    for (const file of ["socket.io.esm.js", "socket.io.msgpack.js", "socket.io.esm.js.map"]) {
      const res = await http(s.port, "GET", `/socket.io/${file}`);
      const theirs = await http(referencePort, "GET", `/socket.io/${file}`);
      assert.equal(res.status, 400, file);
      assert.equal(theirs.status, 400, file);
    }
  });

  test("serveClient: false → the engine answers instead (400 JSON)", async (t) => {
    const s = await start(t, { serveClient: false });
    assert.equal(s.io.serveClient(), false);
    const res = await http(s.port, "GET", "/socket.io/socket.io.js");
    assert.equal(res.status, 400);
    assert.match(String(res.headers["content-type"]), /^application\/json/);
    assert.deepEqual(JSON.parse(res.body), { code: 0, message: "Transport unknown" });
  });
});

// ---- creating and attaching servers ----

describe("creating and attaching a server", () => {
  test("new Server(port) listens on that port", async (t) => {
    const port = await freePort();
    const io = new Server(port);
    t.after(() => io.close());
    const httpServer = io.httpServer as HttpServer;
    if (!httpServer.listening) await once(httpServer, "listening");
    assert.equal((httpServer.address() as AddressInfo).port, port);
    const connections = waitFor<[ServerSocket]>(io, "connection");
    const client = rawClient(t, `http://127.0.0.1:${port}`);
    await connected(client);
    const [socket] = await connections;
    assert.equal(socket.id, client.id);
  });

  test("new Server(httpServer, { path }) beside an app route; the client's path must match", async (t) => {
    const httpServer = createServer((req, res) => {
      res.writeHead(req.url === "/app" ? 200 : 404, { "Content-Type": "text/plain" });
      res.end(req.url === "/app" ? "app ok" : "app 404");
    });
    const io = new Server(httpServer, { path: "/custom" });
    t.after(() => io.close());
    assert.equal(io.path(), "/custom");
    assert.equal(io.httpServer, httpServer);
    const port = await listen(httpServer);
    const url = `http://127.0.0.1:${port}`;

    for (const transports of [["websocket"], ["polling"]] as const) {
      const client = rawClient(t, url, { path: "/custom", transports: [...transports] });
      await connected(client);
      assert.ok(io.sockets.sockets.has(client.id as string));
    }
    // the default path is the app's, not the engine's
    const wrong = rawClient(t, url, { transports: ["polling"] });
    await assert.rejects(connected(wrong));
    assert.equal(io.sockets.sockets.size, 2);

    const app = await http(port, "GET", "/app");
    assert.equal(app.status, 200);
    assert.equal(app.body, "app ok");
    const other = await http(port, "GET", "/elsewhere");
    assert.equal(other.status, 404);
    assert.equal(other.body, "app 404");
    const bundle = await http(port, "GET", "/custom/socket.io.js");
    assert.equal(bundle.status, 200);
  });

  test("new Server(opts) then io.attach(httpServer); attaching again throws", async (t) => {
    const httpServer = createServer();
    const io = new Server({ connectTimeout: 5000 });
    t.after(() => io.close());
    assert.equal((io as { engine?: unknown }).engine, undefined, "not attached yet");
    assert.equal(io.attach(httpServer), io);
    const port = await listen(httpServer);
    const client = rawClient(t, `http://127.0.0.1:${port}`);
    await connected(client);
    assert.equal(io.engine.clientsCount, 1);

    assert.throws(() => io.attach(createServer()), /already attached/);
    assert.throws(() => io.listen(createServer()), /already attached/);
    assert.equal(io.httpServer, httpServer);
    assert.equal(io.engine.clientsCount, 1);
  });

  test("io.listen(httpServer) works as attach", async (t) => {
    const httpServer = createServer();
    const io = new Server();
    t.after(() => io.close());
    assert.equal(io.listen(httpServer), io);
    const port = await listen(httpServer);
    const client = rawClient(t, `http://127.0.0.1:${port}`, { transports: ["polling", "websocket"] });
    await connected(client);
    assert.equal(io.sockets.sockets.size, 1);
  });

  test("connectTimeout closes an engine connection that never connects to a namespace", async (t) => {
    const clock = new FakeClock();
    const s = await start(t, { connectTimeout: 200, clock });
    assert.equal(s.io.connectTimeout(), 200);
    const sessions: EngineSession[] = [];
    s.io.engine.on("connection", (session) => sessions.push(session));
    const raw = new EngineClient(s.url, { path: "/socket.io/", transports: ["websocket"] });
    t.after(() => raw.close());
    const opened = waitFor(raw, "open");
    const closed = waitFor<[string]>(raw, "close");
    await opened;
    clock.advance(199);
    assert.equal(sessions[0]?.readyState, "open");
    clock.advance(1);
    const [why] = await closed;
    assert.equal(why, "transport close");
    assert.equal(sessions.length, 1);
    assert.equal(sessions[0]?.readyState, "closed");
    assert.equal(s.io.engine.clientsCount, 0);
  });
});
