/** The official socket.io-client against Tutti's Server, over polling, WebSocket and the upgrade. */
import assert from "node:assert/strict";
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, test } from "node:test";
import { Server as ReferenceServer } from "socket.io";
import { type Socket as ClientSocket, io as ioClient } from "socket.io-client";
import { type Handshake, Server, type Socket as ServerSocket } from "../src/index.js";
import {
  connected,
  type RunningIo,
  startIo,
  TRANSPORT_MODES,
  TRANSPORTS,
  type TransportMode,
  waitFor,
} from "./sio-helpers.js";

// Whatever a test opens is closed after it, even when it fails, so the process always exits.
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(mode: TransportMode): Promise<RunningIo> {
  const s = await startIo({}, mode);
  cleanups.push(() => s.close());
  return s;
}

type Emitter = { once(event: string, listener: (...args: never[]) => void): unknown };

/**
 * `waitFor` for any emitter (engine.io-client's and Tutti's `once` are typed by event name). A
 * promise left behind by a failed assertion does not become an unhandled rejection.
 */
function next<T extends unknown[] = unknown[]>(emitter: unknown, event: string): Promise<T> {
  const promise = waitFor<T>(emitter as Emitter, event);
  promise.catch(() => {});
  return promise;
}

/**
 * Over polling, waits until the server holds the client's next GET, so that what the server
 * writes now (a close packet) goes out at once instead of waiting for the next poll. socket.io
 * behaves the same: a shutdown with no GET held is seen by the client as a "transport error".
 */
async function pollHeld(server: ServerSocket): Promise<void> {
  for (let i = 0; i < 2000 && !server.conn.transport.writable; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.ok(server.conn.transport.writable, "the transport never became writable");
}

/** Connects a client to `nsp` and resolves with both ends. */
async function connect(
  s: RunningIo,
  nsp = "/",
  opts: Parameters<RunningIo["client"]>[1] = {},
): Promise<{ client: ClientSocket; server: ServerSocket }> {
  const serverSide = next<[ServerSocket]>(s.io.of(nsp), "connection");
  const client = s.client(nsp, opts);
  const [, [server]] = await Promise.all([connected(client), serverSide]);
  return { client, server };
}

/** A second namespace on the same Manager (one engine connection), closed with the test. */
function sibling(s: RunningIo, client: ClientSocket, nsp: string): ClientSocket {
  const socket = client.io.socket(nsp);
  s.clients.push(socket); // the Manager auto-connects it
  return socket;
}

/** The bytes of any binary value, whatever shape the receiving side chose. */
function bytes(data: unknown): number[] {
  if (Buffer.isBuffer(data)) return [...data];
  if (data instanceof ArrayBuffer) return [...new Uint8Array(data)];
  if (ArrayBuffer.isView(data)) return [...new Uint8Array(data.buffer, data.byteOffset, data.byteLength)];
  throw new Error(`not binary: ${Object.prototype.toString.call(data)}`);
}

/** Resolves with the next `n` payloads of `event` (first argument each). */
function collect(socket: ClientSocket, event: string, n: number): Promise<unknown[]> {
  return new Promise((resolve) => {
    const got: unknown[] = [];
    const onEvent = (value: unknown): void => {
      got.push(value);
      if (got.length === n) {
        socket.off(event, onEvent);
        resolve(got);
      }
    };
    socket.on(event, onEvent);
  });
}

/** In upgrade mode, waits until both ends run over WebSocket. */
async function upgraded(client: ClientSocket, mode: TransportMode): Promise<void> {
  if (mode !== "upgrade") return;
  if (client.io.engine.transport.name !== "websocket") await next(client.io.engine, "upgrade");
  // the upgrade packet precedes this event on the WebSocket, so the server has switched once it acks
  await client.timeout(5000).emitWithAck("sync");
}

// Binary payloads of every shape, the same for both directions: 9 attachments, one more in the
// event makes 10, the most socket.io-parser accepts (its maxAttachments default, both sides).
function binaryPayload() {
  const backing = new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  return {
    buffer: Buffer.from([1, 2, 3]),
    arrayBuffer: new Uint8Array([4, 5, 6, 7]).buffer,
    slice: backing.subarray(3, 6), // a view with a byte offset: only its own bytes travel
    int16: new Int16Array([1, -2, 300]),
    float64: new Float64Array([1.5, -0.25]),
    empty: Buffer.alloc(0),
    nested: {
      text: "not binary",
      list: [1, { deep: [Buffer.from("deep")] }, [new Uint8Array([9]), "x"]],
      map: { a: { b: { c: Buffer.from([0xff, 0x00]) } } },
    },
  };
}

function viewBytes(v: ArrayBufferView): number[] {
  return [...new Uint8Array(v.buffer, v.byteOffset, v.byteLength)];
}

/** Checks a received binary payload against `binaryPayload()`, and that each leaf satisfies `isBinary`. */
function assertBinaryPayload(got: unknown, isBinary: (v: unknown) => boolean): void {
  const sent = binaryPayload();
  const p = got as Record<string, unknown> & { nested: { text: unknown; list: unknown[]; map: unknown } };
  const leaves: Array<[string, unknown, number[]]> = [
    ["buffer", p.buffer, [1, 2, 3]],
    ["arrayBuffer", p.arrayBuffer, [4, 5, 6, 7]],
    ["slice", p.slice, [3, 4, 5]],
    ["int16", p.int16, viewBytes(sent.int16)],
    ["float64", p.float64, viewBytes(sent.float64)],
    ["empty", p.empty, []],
    ["nested.list[1].deep[0]", (p.nested.list[1] as { deep: unknown[] }).deep[0], [...Buffer.from("deep")]],
    ["nested.list[2][0]", (p.nested.list[2] as unknown[])[0], [9]],
    ["nested.map.a.b.c", (p.nested.map as { a: { b: { c: unknown } } }).a.b.c, [0xff, 0x00]],
  ];
  for (const [name, value, expected] of leaves) {
    assert.ok(isBinary(value), `${name} should be binary, got ${Object.prototype.toString.call(value)}`);
    assert.deepEqual(bytes(value), expected, name);
  }
  assert.equal(p.nested.text, "not binary");
  assert.equal(p.nested.list[0], 1);
  assert.equal((p.nested.list[2] as unknown[])[1], "x");
}

const isClientBinary = (v: unknown): boolean => Buffer.isBuffer(v) || v instanceof ArrayBuffer || ArrayBuffer.isView(v);

// ---- volatile, against Tutti and against socket.io 4.8 itself ----

/** The part of a server socket the volatile scripts use; both servers have it. */
interface ScriptSocket {
  emit(ev: string, ...args: unknown[]): unknown;
  readonly volatile: { emit(ev: string, ...args: unknown[]): unknown };
}

interface VolatileTarget {
  url: string;
  onConnection(fn: (socket: ScriptSocket & { on(ev: string, fn: (...args: never[]) => void): unknown }) => void): void;
}

async function tuttiTarget(mode: TransportMode): Promise<VolatileTarget> {
  const s = await start(mode);
  return { url: s.url, onConnection: (fn) => s.io.on("connection", (socket) => fn(socket as never)) };
}

async function referenceTarget(): Promise<VolatileTarget> {
  const httpServer = createServer();
  const io = new ReferenceServer(httpServer);
  await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  cleanups.push(async () => {
    await io.close();
    httpServer.closeAllConnections();
  });
  const url = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
  return { url, onConnection: (fn) => io.on("connection", (socket) => fn(socket as never)) };
}

/**
 * Runs `script` on the server socket when the client asks for it, then emits a regular "v" "end"
 * in the same tick: it is always delivered, after anything of the script that was not dropped.
 * Resolves with the "v" payloads the client received up to "end".
 */
async function volatileRun(target: VolatileTarget, mode: TransportMode, script: (s: ScriptSocket) => void) {
  target.onConnection((socket) => {
    socket.on("sync", ((cb: () => void) => cb()) as never);
    socket.on("go", (() => {
      script(socket);
      socket.emit("v", "end");
    }) as never);
  });
  const client = ioClient(target.url, { forceNew: true, reconnection: false, transports: [...TRANSPORTS[mode]] });
  cleanups.push(() => client.disconnect());
  await connected(client);
  await upgraded(client, mode);
  // a round trip first, so nothing the server wrote earlier is still in flight
  await client.timeout(5000).emitWithAck("sync");
  const got: unknown[] = [];
  const done = new Promise<void>((resolve) => {
    client.on("v", (value: unknown) => {
      got.push(value);
      if (value === "end") resolve();
    });
  });
  client.emit("go");
  await done;
  return got;
}

for (const mode of TRANSPORT_MODES) {
  describe(`socket.io-client over ${mode}`, () => {
    // ---- connecting ----

    test("connect: ids, connection events, handshake", async () => {
      const s = await start(mode);
      const before = Date.now();
      const seen: Array<[string, ServerSocket]> = [];
      s.io.on("connect", (socket) => seen.push(["connect", socket]));
      s.io.on("connection", (socket) => seen.push(["connection", socket]));
      const { client, server } = await connect(s, "/", {
        auth: { token: "abc", n: 1, nested: { ok: true } },
        query: { foo: "bar", n: "2" },
        extraHeaders: { "x-tutti-test": "yes" },
      });

      assert.deepEqual(
        seen.map(([ev]) => ev),
        ["connect", "connection"],
      );
      assert.ok(seen.every(([, socket]) => socket === server));
      assert.equal(typeof client.id, "string");
      assert.equal(client.id, server.id);
      assert.equal(server.conn.id, client.io.engine.id);
      assert.notEqual(server.id, server.conn.id);
      assert.equal(s.io.sockets.sockets.get(server.id), server);
      assert.ok(server.connected);
      assert.ok(server.rooms.has(server.id), "a socket is in its own room");

      const h: Handshake = server.handshake;
      assert.deepEqual(h.auth, { token: "abc", n: 1, nested: { ok: true } });
      assert.equal(h.query.foo, "bar");
      assert.equal(h.query.n, "2");
      assert.equal(h.query.EIO, "4");
      assert.equal(h.query.transport, TRANSPORTS[mode][0]);
      assert.equal(h.headers["x-tutti-test"], "yes");
      assert.equal(h.headers.host, `127.0.0.1:${s.port}`);
      assert.equal(h.address, "127.0.0.1");
      assert.equal(typeof h.issued, "number");
      assert.ok(h.issued >= before && h.issued <= Date.now());
      assert.equal(typeof h.time, "string");
      // `time` is Date#toString(): second precision, the same instant as `issued`
      assert.equal(Date.parse(h.time), Math.floor(h.issued / 1000) * 1000);
      assert.ok(h.url.startsWith("/socket.io/?"), h.url);
      assert.match(h.url, /[?&]foo=bar(&|$)/);
      assert.equal(h.xdomain, false);
      assert.equal(h.secure, false);
    });

    // ---- events ----

    test("events both ways with several arguments, in order", async () => {
      const s = await start(mode);
      const { client, server } = await connect(s);

      const atServer = next(server, "c2s");
      client.emit("c2s", 1, "two", { three: [3, { four: 4 }] }, null, true, 4.5, [], {});
      assert.deepEqual(await atServer, [1, "two", { three: [3, { four: 4 }] }, null, true, 4.5, [], {}]);

      const atClient = next(client, "s2c");
      server.emit("s2c", "a", 2, { b: { c: [1, 2] } }, false, "ü€😀");
      assert.deepEqual(await atClient, ["a", 2, { b: { c: [1, 2] } }, false, "ü€😀"]);

      // many emits in one tick keep their order, both ways
      const inOrder = collect(client, "seq", 50);
      for (let i = 0; i < 50; i++) server.emit("seq", i);
      assert.deepEqual(
        await inOrder,
        Array.from({ length: 50 }, (_, i) => i),
      );
      const serverGot: number[] = [];
      const all = new Promise<void>((resolve) => {
        server.on("seq", (i: number) => {
          serverGot.push(i);
          if (serverGot.length === 50) resolve();
        });
      });
      for (let i = 0; i < 50; i++) client.emit("seq", i);
      await all;
      assert.deepEqual(
        serverGot,
        Array.from({ length: 50 }, (_, i) => i),
      );

      // send() is the "message" event
      const message = next(client, "message");
      server.send("hi", 1);
      assert.deepEqual(await message, ["hi", 1]);
    });

    test("binary from server to client: every shape, nested, several attachments", async () => {
      const s = await start(mode);
      const { client, server } = await connect(s);
      const got = next(client, "bin");
      server.emit("bin", binaryPayload(), Buffer.from("second"), "text");
      const [payload, second, text] = await got;
      assertBinaryPayload(payload, isClientBinary);
      assert.deepEqual(bytes(second), [...Buffer.from("second")]);
      assert.equal(text, "text");
    });

    test("binary from client to server: the server receives Buffers", async () => {
      const s = await start(mode);
      const { client, server } = await connect(s);
      const got = next(server, "bin");
      client.emit("bin", binaryPayload(), new Uint8Array([42]), "text");
      const [payload, second, text] = await got;
      assertBinaryPayload(payload, Buffer.isBuffer);
      assert.ok(Buffer.isBuffer(second));
      assert.deepEqual([...(second as Buffer)], [42]);
      assert.equal(text, "text");
    });

    // ---- acks ----

    test("acks both ways, a binary ack included", async () => {
      const s = await start(mode);
      const { client, server } = await connect(s);

      // server asks, client answers with several values
      client.on("ask", (n: number, label: string, cb: (...args: unknown[]) => void) =>
        cb(n + 1, `${label}!`, { ok: true }),
      );
      const answer = await new Promise<unknown[]>((resolve) => {
        server.emit("ask", 41, "hey", (...args: unknown[]) => resolve(args));
      });
      assert.deepEqual(answer, [42, "hey!", { ok: true }]);

      // client asks, server answers with binary
      server.on("q", (x: string, cb: (reply: unknown) => void) => {
        cb({ echo: x, bin: Buffer.from([7, 8, 9]), list: [new Uint8Array([1]), Buffer.from([2])] });
      });
      const reply = await new Promise<{ echo: string; bin: unknown; list: unknown[] }>((resolve) => {
        client.emit("q", "x", resolve);
      });
      assert.equal(reply.echo, "x");
      assert.deepEqual(bytes(reply.bin), [7, 8, 9]);
      assert.deepEqual(reply.list.map(bytes), [[1], [2]]);

      // the client acks with binary; the server gets a Buffer
      client.on("give", (cb: (b: unknown) => void) => cb(new Uint8Array([5, 6])));
      const [fromClient] = await new Promise<unknown[]>((resolve) => {
        server.emit("give", (...args: unknown[]) => resolve(args));
      });
      assert.ok(Buffer.isBuffer(fromClient));
      assert.deepEqual([...(fromClient as Buffer)], [5, 6]);

      // client emitWithAck, no timeout
      assert.deepEqual(await client.emitWithAck("q", "y"), {
        echo: "y",
        bin: Buffer.from([7, 8, 9]),
        list: [Buffer.from([1]), Buffer.from([2])],
      });
    });

    test("server acks with timeout: error when the client never acks, (null, value) when it does", async () => {
      const s = await start(mode);
      const { client, server } = await connect(s);
      client.on("silent", () => {});
      client.on("answers", (x: number, cb: (v: unknown) => void) => cb({ value: x * 2 }));

      const timedOut = await new Promise<unknown[]>((resolve) => {
        server.timeout(100).emit("silent", 1, (...args: unknown[]) => resolve(args));
      });
      assert.equal(timedOut.length, 1);
      assert.ok(timedOut[0] instanceof Error);
      assert.equal((timedOut[0] as Error).message, "operation has timed out");

      const answered = await new Promise<unknown[]>((resolve) => {
        server.timeout(10_000).emit("answers", 21, (...args: unknown[]) => resolve(args));
      });
      assert.deepEqual(answered, [null, { value: 42 }]);

      assert.deepEqual(await server.emitWithAck("answers", 5), { value: 10 });
      assert.deepEqual(await server.timeout(10_000).emitWithAck("answers", 6), { value: 12 });
      await assert.rejects(server.timeout(100).emitWithAck("silent", 2), {
        name: "Error",
        message: "operation has timed out",
      });
      // the connection is unharmed
      assert.deepEqual(await server.emitWithAck("answers", 7), { value: 14 });
    });

    test("client timeout().emitWithAck against a server handler", async () => {
      const s = await start(mode);
      const { client, server } = await connect(s);
      server.on("sum", (a: number, b: number, cb: (n: number) => void) => cb(a + b));
      server.on("ignore", () => {});
      assert.equal(await client.timeout(10_000).emitWithAck("sum", 2, 3), 5);
      await assert.rejects(client.timeout(100).emitWithAck("ignore", 1), { message: "operation has timed out" });
      const viaCallback = await new Promise<unknown[]>((resolve) => {
        client.timeout(10_000).emit("sum", 4, 5, (...args: unknown[]) => resolve(args));
      });
      assert.deepEqual(viaCallback, [null, 9]);
    });

    // ---- middleware ----

    test("a middleware error reaches connect_error with its message and data", async () => {
      const s = await start(mode);
      let connections = 0;
      s.io.on("connection", () => connections++);
      s.io.use((_socket, next) => next(Object.assign(new Error("not authorized"), { data: { code: 42 } })));
      const client = s.client("/");
      const [err] = await next<[Error & { data?: unknown }]>(client, "connect_error");
      assert.ok(err instanceof Error);
      assert.equal(err.message, "not authorized");
      assert.deepEqual(err.data, { code: 42 });
      assert.equal(client.connected, false);
      assert.equal(connections, 0);
      assert.equal(s.io.sockets.sockets.size, 0);
    });

    test("passing middlewares run in order, may be async, and set socket.data", async () => {
      const s = await start(mode);
      const order: string[] = [];
      s.io.use((socket, next) => {
        order.push("first");
        socket.data = { user: socket.handshake.auth.user };
        next();
      });
      s.io.use((_socket, next) => {
        order.push("second");
        setTimeout(next, 5);
      });
      const { client, server } = await connect(s, "/", { auth: { user: "ann" } });
      assert.deepEqual(order, ["first", "second"]);
      assert.deepEqual(server.data, { user: "ann" });
      assert.ok(client.connected);
      // socket.data is what fetchSockets() reports
      const [remote] = await s.io.fetchSockets();
      assert.deepEqual(remote?.data, { user: "ann" });
    });

    test("a middleware that throws synchronously gives connect_error with its message", async () => {
      const s = await start(mode);
      s.io.use(() => {
        throw new Error("boom");
      });
      const client = s.client("/");
      const [err] = await next<[Error]>(client, "connect_error");
      assert.equal(err.message, "boom");
      assert.equal(s.io.sockets.sockets.size, 0);
    });

    test("a namespace middleware refuses that namespace only, on a shared connection", async () => {
      const s = await start(mode);
      s.io.of("/admin").use((_socket, next) => next(new Error("admins only")));
      const { client } = await connect(s);
      const admin = sibling(s, client, "/admin");
      const [err] = await next<[Error]>(admin, "connect_error");
      assert.equal(err.message, "admins only");
      // the main namespace on the same connection is unaffected
      assert.ok(client.connected);
      assert.equal(s.io.sockets.sockets.size, 1);
      assert.equal(s.io.of("/admin").sockets.size, 0);
      assert.equal(s.io.engine.clientsCount, 1);
    });

    test("an unknown namespace gets connect_error Invalid namespace", async () => {
      const s = await start(mode);
      const client = s.client("/nope");
      const [err] = await next<[Error]>(client, "connect_error");
      assert.equal(err.message, "Invalid namespace");
      assert.equal(client.connected, false);
      assert.equal(s.io.namespaces.has("/nope"), false);
    });

    // ---- disconnecting ----

    test("server socket.disconnect(): server namespace disconnect / io server disconnect", async () => {
      const s = await start(mode);
      const { client, server } = await connect(s);
      const atServer = next<[string]>(server, "disconnect");
      const atClient = next<[string]>(client, "disconnect");
      server.disconnect();
      assert.equal((await atServer)[0], "server namespace disconnect");
      assert.equal((await atClient)[0], "io server disconnect");
      assert.equal(server.connected, false);
      assert.equal(client.connected, false);
      assert.equal(s.io.sockets.sockets.size, 0);
    });

    test("client socket.disconnect(): client namespace disconnect / io client disconnect", async () => {
      const s = await start(mode);
      const { client, server } = await connect(s);
      const atServer = next<[string]>(server, "disconnect");
      const atClient = next<[string]>(client, "disconnect");
      client.disconnect();
      assert.equal((await atClient)[0], "io client disconnect");
      assert.equal((await atServer)[0], "client namespace disconnect");
      assert.equal(s.io.sockets.sockets.size, 0);
    });

    test("server socket.disconnect(true) closes the connection, other namespaces included", async () => {
      const s = await start(mode);
      const adminConnection = next<[ServerSocket]>(s.io.of("/admin"), "connection");
      const { client, server } = await connect(s);
      const admin = sibling(s, client, "/admin");
      const [[adminServer]] = await Promise.all([adminConnection, connected(admin)]);
      assert.equal(adminServer.conn, server.conn);

      const reasons = Promise.all([
        next<[string]>(server, "disconnect"),
        next<[string]>(adminServer, "disconnect"),
        next<[string]>(client, "disconnect"),
        next<[string]>(admin, "disconnect"),
      ]);
      const sessionClosed = next(server.conn, "close");
      const engineClosed = next(client.io.engine, "close");
      // what the client sees, in order: the last events, then the server's disconnect
      const log: string[] = [];
      client.on("bye", (v: string) => log.push(`/ bye ${v}`));
      admin.on("bye", (v: string) => log.push(`/admin bye ${v}`));
      client.on("disconnect", (reason) => log.push(`/ disconnect ${reason}`));
      admin.on("disconnect", (reason) => log.push(`/admin disconnect ${reason}`));
      server.emit("bye", "root");
      adminServer.emit("bye", "admin");
      server.disconnect(true);
      const [[rootAtServer], [adminAtServer]] = await reasons;
      assert.equal(rootAtServer, "server namespace disconnect");
      assert.equal(adminAtServer, "server namespace disconnect");
      // socket.io 4.8 delivers the events and both DISCONNECT packets before it closes the connection
      assert.deepEqual(log, [
        "/ bye root",
        "/admin bye admin",
        "/ disconnect io server disconnect",
        "/admin disconnect io server disconnect",
      ]);
      await Promise.all([sessionClosed, engineClosed]);
      assert.equal(s.io.engine.clientsCount, 0);
    });

    test("io.close(): server shutting down / transport close", async () => {
      const s = await start(mode);
      const { client, server } = await connect(s);
      const adminConnection = next<[ServerSocket]>(s.io.of("/admin"), "connection");
      const admin = sibling(s, client, "/admin");
      const [[adminServer]] = await Promise.all([adminConnection, connected(admin)]);
      await pollHeld(server);
      const reasons = Promise.all([
        next<[string]>(server, "disconnect"),
        next<[string]>(adminServer, "disconnect"),
        next<[string]>(client, "disconnect"),
        next<[string]>(admin, "disconnect"),
      ]);
      await s.io.close();
      const [[rootAtServer], [adminAtServer], [rootAtClient], [adminAtClient]] = await reasons;
      assert.equal(rootAtServer, "server shutting down");
      assert.equal(adminAtServer, "server shutting down");
      assert.equal(rootAtClient, "transport close");
      assert.equal(adminAtClient, "transport close");
    });

    test('"disconnecting" fires before "disconnect", with the rooms still there', async () => {
      const s = await start(mode);
      const { client, server } = await connect(s);
      await server.join(["r1", "r2"]);
      const log: Array<[string, string, string[]]> = [];
      server.on("disconnecting", (reason: string) => log.push(["disconnecting", reason, [...server.rooms].sort()]));
      const done = new Promise<void>((resolve) => {
        server.on("disconnect", (reason: string) => {
          log.push(["disconnect", reason, [...server.rooms]]);
          resolve();
        });
      });
      client.disconnect();
      await done;
      assert.deepEqual(log, [
        ["disconnecting", "client namespace disconnect", [server.id, "r1", "r2"].sort()],
        ["disconnect", "client namespace disconnect", []],
      ]);
      assert.equal(s.io.sockets.adapter.rooms.has("r1"), false);
    });

    // ---- volatile (compared with socket.io 4.8 itself) ----

    test("volatile after a regular emit in the same tick is dropped; a later regular emit arrives (as socket.io 4.8)", async () => {
      const script = (socket: ScriptSocket): void => {
        socket.emit("v", 1);
        socket.volatile.emit("v", 2);
      };
      const reference = await volatileRun(await referenceTarget(), mode, script);
      const tutti = await volatileRun(await tuttiTarget(mode), mode, script);
      assert.deepEqual(reference, [1, "end"], "socket.io 4.8");
      assert.deepEqual(tutti, reference, "Tutti");
    });

    if (mode !== "polling") {
      test("two volatile emits in one tick over WebSocket: only the first is sent (as socket.io 4.8)", async () => {
        const script = (socket: ScriptSocket): void => {
          socket.volatile.emit("v", 1);
          socket.volatile.emit("v", 2);
          socket.emit("v", 3); // a regular emit after a dropped volatile one still arrives
          socket.volatile.emit("v", 4);
        };
        const reference = await volatileRun(await referenceTarget(), mode, script);
        const tutti = await volatileRun(await tuttiTarget(mode), mode, script);
        assert.deepEqual(reference, [1, 3, "end"], "socket.io 4.8");
        assert.deepEqual(tutti, reference, "Tutti");
      });
    }

    // ---- reconnection ----

    test("the client reconnects to a new server on the same port", async () => {
      const s = await start(mode);
      const { client, server } = await connect(s, "/", {
        reconnection: true,
        reconnectionDelay: 50,
        reconnectionDelayMax: 100,
      });
      await pollHeld(server);
      const firstId = client.id;
      const firstEngineId = client.io.engine.id;

      const lost = next<[string]>(client, "disconnect");
      const reconnected = next(client.io, "reconnect");
      await s.io.close();
      assert.equal((await lost)[0], "transport close");

      const httpServer = createServer();
      await new Promise<void>((resolve, reject) => {
        httpServer.once("error", reject);
        httpServer.listen(s.port, "127.0.0.1", () => resolve());
      });
      const io2 = new Server(httpServer);
      cleanups.push(async () => {
        client.disconnect();
        await io2.close();
        (httpServer as HttpServer).closeAllConnections();
      });
      io2.on("connection", (socket) => socket.on("echo", (v: unknown, cb: (v: unknown) => void) => cb(v)));

      await reconnected;
      await connected(client);
      assert.notEqual(client.id, firstId);
      assert.notEqual(client.io.engine.id, firstEngineId);
      assert.equal(io2.sockets.sockets.get(client.id as string)?.conn.id, client.io.engine.id);
      assert.deepEqual(await client.timeout(10_000).emitWithAck("echo", { back: [1, 2] }), { back: [1, 2] });
    });

    // ---- multiplexing ----

    test("several namespaces share one connection, and events reach the right one", async () => {
      const s = await start(mode);
      const adminNsp = s.io.of("/admin");
      const adminConnection = next<[ServerSocket]>(adminNsp, "connection");
      const { client: root, server: rootServer } = await connect(s);
      const admin = sibling(s, root, "/admin");
      const [[adminServer]] = await Promise.all([adminConnection, connected(admin)]);

      assert.equal(s.io.engine.clientsCount, 1);
      assert.equal(rootServer.client, adminServer.client);
      assert.equal(rootServer.conn.id, root.io.engine.id);
      assert.equal(adminServer.conn.id, root.io.engine.id);
      assert.equal(admin.io, root.io);
      assert.equal(root.id, rootServer.id);
      assert.equal(admin.id, adminServer.id);
      assert.notEqual(root.id, admin.id);
      assert.equal(s.io.sockets.sockets.size, 1);
      assert.equal(adminNsp.sockets.size, 1);

      // client → server
      rootServer.on("where", (cb: (v: string) => void) => cb("/"));
      adminServer.on("where", (cb: (v: string) => void) => cb("/admin"));
      assert.equal(await root.timeout(10_000).emitWithAck("where"), "/");
      assert.equal(await admin.timeout(10_000).emitWithAck("where"), "/admin");

      // server → client, direct and by namespace broadcast
      const rootGot: unknown[] = [];
      const adminGot: unknown[] = [];
      root.onAny((ev: string, v: unknown) => rootGot.push([ev, v]));
      admin.onAny((ev: string, v: unknown) => adminGot.push([ev, v]));
      const rootDone = collect(root, "end", 1);
      const adminDone = collect(admin, "end", 1);
      adminServer.emit("news", "for admin");
      rootServer.emit("news", "for root");
      adminNsp.emit("all", "admin namespace");
      s.io.emit("all", "main namespace");
      adminServer.emit("end", 0);
      rootServer.emit("end", 0);
      await Promise.all([rootDone, adminDone]);
      assert.deepEqual(rootGot, [
        ["news", "for root"],
        ["all", "main namespace"],
        ["end", 0],
      ]);
      assert.deepEqual(adminGot, [
        ["news", "for admin"],
        ["all", "admin namespace"],
        ["end", 0],
      ]);

      // leaving one namespace keeps the other, and the connection
      const adminLeft = next<[string]>(adminServer, "disconnect");
      admin.disconnect();
      assert.equal((await adminLeft)[0], "client namespace disconnect");
      assert.ok(root.connected);
      assert.equal(await root.timeout(10_000).emitWithAck("where"), "/");
      assert.equal(s.io.engine.clientsCount, 1);
    });
  });
}
