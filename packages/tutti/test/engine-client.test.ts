/** The official engine.io-client against the engine, over each transport and through the upgrade. */
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { Socket, type SocketOptions } from "engine.io-client";
import type { EngineSession } from "../src/index.js";
import { FakeClock } from "../src/testing/index.js";
import {
  nextEvent as once,
  type Running,
  startEcho as startEchoServer,
  startEngine as startEngineServer,
} from "./helpers.js";

// Whatever a test opens is closed after it, even when it fails, so the process always exits.
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startEcho(...args: Parameters<typeof startEchoServer>): Promise<Running> {
  const server = await startEchoServer(...args);
  cleanups.push(() => server.close());
  return server;
}

async function startEngine(...args: Parameters<typeof startEngineServer>): Promise<Running> {
  const server = await startEngineServer(...args);
  cleanups.push(() => server.close());
  return server;
}

type ClientOptions = Partial<SocketOptions>;

function connect(server: Running, opts: ClientOptions = {}): Socket {
  const client = new Socket(server.url, { path: "/socket.io/", ...opts });
  cleanups.push(() => client.close());
  return client;
}

function toBuffer(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new Error(`not binary: ${typeof data}`);
}

/** Collects the next `n` messages the client receives. */
function messages(client: Socket, n: number): Promise<unknown[]> {
  return new Promise((resolve) => {
    const got: unknown[] = [];
    const onMessage = (data: unknown): void => {
      got.push(data);
      if (got.length === n) {
        client.off("message", onMessage);
        resolve(got);
      }
    };
    client.on("message", onMessage);
  });
}

const modes: Array<[string, ClientOptions, string]> = [
  ["polling only", { transports: ["polling"] }, "polling"],
  ["websocket only", { transports: ["websocket"] }, "websocket"],
  ["polling then upgrade", {}, "websocket"],
];

for (const [mode, opts, finalTransport] of modes) {
  describe(`official client, ${mode}`, () => {
    test("connects, and text and binary go both ways", async () => {
      const server = await startEcho();
      const client = connect(server, opts);
      await once(client, "open");
      if (finalTransport === "websocket" && client.transport.name !== "websocket") await once(client, "upgrade");
      assert.equal(client.transport.name, finalTransport);
      const session = [...server.engine.clients.values()][0] as EngineSession;
      // the client switches when it sends the upgrade packet; the server when that packet lands
      if (session.upgrading) await once(session, "upgrade");
      assert.equal(session.transport.name, finalTransport);
      assert.equal(server.engine.clientsCount, 1);

      const echoes = messages(client, 4);
      client.send("hello");
      client.send("é€😀");
      client.send(new Uint8Array([1, 2, 3, 250]));
      client.send(new Uint8Array([9, 8, 7]).buffer);
      const got = await echoes;
      assert.equal(got[0], "hello");
      assert.equal(got[1], "é€😀");
      assert.deepEqual(toBuffer(got[2]), Buffer.from([1, 2, 3, 250]));
      assert.deepEqual(toBuffer(got[3]), Buffer.from([9, 8, 7]));

      const pushed = messages(client, 2);
      session.send("from server");
      session.send(Buffer.from([0, 1, 2]));
      const [text, bin] = await pushed;
      assert.equal(text, "from server");
      assert.deepEqual(toBuffer(bin), Buffer.from([0, 1, 2]));

      client.close();
      await server.close();
    });

    test("many messages keep their order both ways", async () => {
      const received: string[] = [];
      const server = await startEngine({}, (s) => s.on("message", (d) => received.push(String(d))));
      const client = connect(server, opts);
      await once(client, "open");
      const sent = Array.from({ length: 200 }, (_, i) => `m${i}`);
      for (const m of sent) client.send(m);
      while (received.length < sent.length)
        await once([...server.engine.clients.values()][0] as EngineSession, "message");
      assert.deepEqual(received, sent);

      const session = [...server.engine.clients.values()][0] as EngineSession;
      const back = messages(client, 200);
      for (const m of sent) session.send(m);
      assert.deepEqual(await back, sent);
      client.close();
      await server.close();
    });

    test("client close reaches the server as transport close", async () => {
      const server = await startEcho();
      const client = connect(server, opts);
      await once(client, "open");
      const session = [...server.engine.clients.values()][0] as EngineSession;
      const closed = once(session, "close");
      client.close();
      const [reason] = (await closed) as [string];
      assert.equal(reason, "transport close");
      assert.equal(server.engine.clientsCount, 0);
      await server.close();
    });

    test("server close reaches the client, after the queued messages", async () => {
      const server = await startEcho();
      const client = connect(server, opts);
      await once(client, "open");
      if (finalTransport === "websocket" && client.transport.name !== "websocket") await once(client, "upgrade");
      const session = [...server.engine.clients.values()][0] as EngineSession;
      const got: unknown[] = [];
      client.on("message", (d) => got.push(d));
      const closed = once(client, "close");
      const serverClosed = once(session, "close");
      session.send("last words");
      session.close();
      const [reason] = (await closed) as [string];
      assert.equal(reason, "transport close");
      assert.deepEqual(got, ["last words"]);
      assert.deepEqual(await serverClosed, ["forced close", undefined]);
      await server.close();
    });
  });
}

describe("batching and write coalescing", () => {
  test("messages sent in one turn leave in one polling response", async () => {
    const server = await startEcho();
    const client = connect(server, { transports: ["polling"] });
    await once(client, "open");
    const session = [...server.engine.clients.values()][0] as EngineSession;
    const flushes: number[] = [];
    session.on("flush", (packets) => flushes.push(packets.length));
    const got = messages(client, 50);
    for (let i = 0; i < 50; i++) session.send(`n${i}`);
    assert.equal((await got).length, 50);
    assert.deepEqual(flushes, [50]);
    client.close();
    await server.close();
  });

  test("messages sent in one turn over websocket are flushed together", async () => {
    const server = await startEcho();
    const client = connect(server, { transports: ["websocket"] });
    await once(client, "open");
    const session = [...server.engine.clients.values()][0] as EngineSession;
    const flushes: number[] = [];
    session.on("flush", (packets) => flushes.push(packets.length));
    const got = messages(client, 30);
    for (let i = 0; i < 30; i++) session.send(`n${i}`);
    assert.deepEqual(
      await got,
      Array.from({ length: 30 }, (_, i) => `n${i}`),
    );
    assert.deepEqual(flushes, [30]);
    client.close();
    await server.close();
  });

  test("send callbacks run once the packet is written", async () => {
    const server = await startEcho();
    for (const transports of [["polling"], ["websocket"]]) {
      const client = connect(server, { transports });
      await once(client, "open");
      const session = [...server.engine.clients.values()].at(-1) as EngineSession;
      const written = new Promise<void>((resolve) => session.send("x", {}, resolve));
      await Promise.all([written, once(client, "message")]);
      client.close();
    }
    await server.close();
  });
});

describe("heartbeat with the official client", () => {
  test("the client answers pings and the session stays open across several intervals", async () => {
    const server = await startEcho({ pingInterval: 40, pingTimeout: 200 });
    const client = connect(server, { transports: ["websocket"] });
    await once(client, "open");
    const session = [...server.engine.clients.values()][0] as EngineSession;
    for (let i = 0; i < 4; i++) await once(session, "heartbeat");
    assert.equal(session.readyState, "open");
    client.close();
    await server.close();
  });

  test("a client that stops reading is closed with ping timeout", async () => {
    const clock = new FakeClock();
    const server = await startEcho({ pingInterval: 50, pingTimeout: 50, clock });
    const client = connect(server, { transports: ["websocket"] });
    await once(client, "open");
    const session = [...server.engine.clients.values()][0] as EngineSession;
    // stop reading the socket: pings arrive but are never answered
    const ws = (client.transport as unknown as { ws: { pause(): void; resume(): void } }).ws;
    ws.pause();
    const closed = once(session, "close") as Promise<[string]>;
    clock.advance(50); // the ping
    clock.advance(50);
    const [reason] = await closed;
    assert.equal(reason, "ping timeout");
    // read again, so the close handshake completes: a paused socket would hold the process for
    // the WebSocket close timeout (30 s)
    ws.resume();
    client.close();
    await server.close();
  });
});
