/** Hostile or unlucky clients on the upgrade path, middleware edge cases, and session edge cases. */
import assert from "node:assert/strict";
import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { after, describe, test } from "node:test";
import type { EngineSession } from "../src/index.js";
import { http, pollingHandshake, RawWs, type Running, startEcho, startEngine } from "./helpers.js";

const UPGRADE_HEADERS =
  "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
  "Sec-WebSocket-Version: 13\r\n";

function rawUpgrade(port: number, path: string, extraHeaders = ""): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${UPGRADE_HEADERS}${extraHeaders}\r\n`);
      resolve(socket);
    });
    socket.on("error", () => {});
    socket.once("error", reject);
  });
}

async function readAll(socket: Socket): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of socket) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("latin1");
}

/** A well-behaved client still gets an echo: the server is up and undisturbed. */
async function assertServes(server: Running): Promise<void> {
  const ws = new RawWs(`ws://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=websocket`);
  await ws.next();
  ws.send("4still here");
  assert.equal(await ws.next(), "4still here");
  ws.ws.close();
}

describe("connection resets on the upgrade path never crash the server", () => {
  const servers: Running[] = [];
  after(async () => {
    for (const s of servers) await s.close();
  });

  test("reset right after a refused upgrade (sync refusal)", async () => {
    const server = await startEcho();
    servers.push(server);
    for (let i = 0; i < 50; i++) {
      const socket = await rawUpgrade(server.port, "/socket.io/?EIO=3&transport=websocket");
      await new Promise((r) => setImmediate(r));
      socket.resetAndDestroy();
    }
    await assertServes(server);
  });

  test("reset while allowRequest is deciding", async () => {
    let pending = 0;
    const server = await startEcho({
      allowRequest: (_req, cb) => {
        pending++;
        setTimeout(() => cb(null, true), 30);
      },
    });
    servers.push(server);
    for (let i = 0; i < 10; i++) {
      const socket = await rawUpgrade(server.port, "/socket.io/?EIO=4&transport=websocket");
      while (pending <= i) await new Promise((r) => setImmediate(r));
      socket.resetAndDestroy();
    }
    await new Promise((r) => setTimeout(r, 60)); // let every allowRequest answer land on a dead socket
    assert.equal(server.engine.clientsCount, 0);
    await assertServes(server);
  });

  test("reset of an upgrade request outside the engine's path", async () => {
    const server = await startEcho({ destroyUpgradeTimeout: 20 });
    servers.push(server);
    for (let i = 0; i < 20; i++) {
      const socket = await rawUpgrade(server.port, "/elsewhere");
      await new Promise((r) => setImmediate(r));
      socket.resetAndDestroy();
    }
    await assertServes(server);
  });
});

describe("middlewares on the upgrade path", () => {
  test("a middleware that answers the upgrade itself gets its response sent and the socket closed", async () => {
    const server = await startEcho();
    server.engine.use((_req, res, _next) => {
      res.writeHead(401, { "Content-Length": "0" });
      res.end();
    });
    const socket = await rawUpgrade(server.port, "/socket.io/?EIO=4&transport=websocket");
    const text = await readAll(socket); // ends only when the server closes the connection
    assert.match(text, /^HTTP\/1\.1 401/);
    assert.equal(server.engine.clientsCount, 0);
    await server.close();
  });

  test("headers set from a writeHead hook (as express-session does) reach the 101 response", async () => {
    const server = await startEcho();
    server.engine.use((_req, res, next) => {
      const original = res.writeHead;
      res.writeHead = function (this: typeof res, ...args: Parameters<typeof original>) {
        this.setHeader("Set-Cookie", "connect.sid=abc");
        return original.apply(this, args);
      } as typeof original;
      next();
    });
    const ws = new RawWs(`ws://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=websocket`);
    const [response] = (await once(ws.ws, "upgrade")) as [{ headers: Record<string, string | string[]> }];
    assert.deepEqual(response.headers["set-cookie"], ["connect.sid=abc"]);
    ws.ws.close();
    await server.close();
  });

  test("a middleware that throws fails the request with 400 code 3", async () => {
    const server = await startEngine();
    const errors: string[] = [];
    server.engine.on("connection_error", (e) => errors.push(String(e.context.name)));
    server.engine.use(() => {
      throw new Error("middleware bug");
    });
    const res = await http(server.port, "GET", "/socket.io/?EIO=4&transport=polling");
    assert.equal(res.status, 400);
    assert.equal(JSON.parse(res.body).code, 3);
    assert.deepEqual(errors, ["MIDDLEWARE_FAILURE"]);
    assert.equal(server.engine.clientsCount, 0);
    await server.close();
  });

  test("a middleware calling next twice runs the chain once", async () => {
    let handshakes = 0;
    const server = await startEngine({}, () => handshakes++);
    server.engine.use((_req, _res, next) => {
      next();
      next();
    });
    const res = await http(server.port, "GET", "/socket.io/?EIO=4&transport=polling");
    assert.equal(res.status, 200);
    assert.equal(handshakes, 1);
    assert.equal(server.engine.clientsCount, 1);
    await server.close();
  });
});

describe("generateId", () => {
  test("may be async, over polling and websocket", async () => {
    let n = 0;
    const server = await startEcho({ generateId: async () => `async-${++n}` });
    const { sid } = await pollingHandshake(server.port);
    assert.equal(sid, "async-1");
    const ws = new RawWs(`ws://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=websocket`);
    assert.equal(JSON.parse(((await ws.next()) as string).slice(1)).sid, "async-2");
    assert.deepEqual([...server.engine.clients.keys()].sort(), ["async-1", "async-2"]);
    ws.ws.close();
    await server.close();
  });

  test("a rejected or non-string id refuses the handshake with 400 code 3", async () => {
    const server = await startEcho({ generateId: (() => Promise.resolve(42)) as unknown as () => string });
    const res = await http(server.port, "GET", "/socket.io/?EIO=4&transport=polling");
    assert.equal(res.status, 400);
    assert.equal(JSON.parse(res.body).code, 3);
    assert.equal(server.engine.clientsCount, 0);
    await server.close();
  });
});

describe("session edge cases", () => {
  test("one message larger than maxBufferedBytes still reaches a reading client", async () => {
    const server = await startEcho({ maxBufferedBytes: 1024 });
    const ws = new RawWs(`ws://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=websocket`);
    await ws.next();
    const session = [...server.engine.clients.values()][0] as EngineSession;
    session.send("x".repeat(100_000));
    assert.equal(((await ws.next()) as string).length, 100_001);
    assert.equal(session.readyState, "open");
    ws.ws.close();
    await server.close();
  });

  test("after close() nothing more from the client is delivered", async () => {
    const got: string[] = [];
    const server = await startEngine({}, (s) => s.on("message", (d) => got.push(String(d))));
    const { sid } = await pollingHandshake(server.port);
    const path = `/socket.io/?EIO=4&transport=polling&sid=${sid}`;
    await http(server.port, "POST", path, "4before");
    const session = server.engine.clients.get(sid) as EngineSession;
    session.close();
    await http(server.port, "POST", path, "4after");
    assert.deepEqual(got, ["before"]);
    assert.equal((await http(server.port, "GET", path)).body, "6\x1e1");
    await server.close();
  });

  test("open, upgrade and noop packets outside an upgrade are ignored", async () => {
    const got: string[] = [];
    const server = await startEngine({}, (s) => s.on("message", (d) => got.push(String(d))));
    const ws = new RawWs(`ws://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=websocket`);
    await ws.next();
    for (const frame of ["6", "5", "0", "4ok"]) ws.send(frame);
    while (got.length === 0) await new Promise((r) => setImmediate(r));
    assert.deepEqual(got, ["ok"]);
    assert.equal(server.engine.clientsCount, 1);
    ws.ws.close();
    await server.close();
  });

  test("a session closed as a slow consumer leaves no timer behind", async () => {
    const server = await startEcho({ maxBufferedBytes: 10, pingInterval: 20, pingTimeout: 60_000 });
    const { sid } = await pollingHandshake(server.port);
    const session = server.engine.clients.get(sid) as EngineSession;
    session.send("0123456789"); // backlog 10 bytes + the message, never polled
    const [reason] = (await once(session, "close")) as [string];
    assert.equal(reason, "slow consumer");
    await server.close();
    // the test process exits promptly only if no 60 s pong timer was armed
  });
});
