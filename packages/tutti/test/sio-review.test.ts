/**
 * Regression tests for defects an independent review found in the Socket.IO layer; each test
 * names the defect it guards against.
 */
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders, request } from "node:http";
import { type AddressInfo, createServer as createNetServer } from "node:net";
import { describe, test } from "node:test";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { io as ioClient, Manager } from "socket.io-client";
import { Adapter, type AdapterNamespace, Server, type Socket } from "../src/index.js";
import { MAX_REFUSED_CONNECTS } from "../src/server/client.js";
import { RawWs } from "./helpers.js";
import { connected, startIo, waitFor } from "./sio-helpers.js";

describe("review findings", () => {
  test("io.of(name) for a name a RegExp namespace matches is its child: the parent's middleware applies", async (t) => {
    const s = await startIo();
    t.after(() => s.close());
    const parent = s.io.of(/^\/org-\d+$/);
    parent.use((socket, next) => next(socket.handshake.auth.token === "ok" ? undefined : new Error("unauthorized")));
    const joined: string[] = [];
    parent.on("connection", (socket) => joined.push(socket.nsp.name));
    const org = s.io.of("/org-1");
    org.emit("hello"); // an app broadcasting before anyone joined
    assert.ok((parent as unknown as { children: Set<unknown> }).children.has(org));

    const bad = s.client("/org-1", { auth: { token: "nope" } });
    const [err] = await waitFor<[Error]>(bad, "connect_error");
    assert.equal(err.message, "unauthorized");
    const good = s.client("/org-1", { auth: { token: "ok" } });
    await connected(good);
    assert.deepEqual(joined, ["/org-1"]);
  });

  test("with cleanupEmptyChildNamespaces, refused connections leave no child namespace behind", async (t) => {
    const s = await startIo({ cleanupEmptyChildNamespaces: true });
    t.after(() => s.close());
    s.io.of(/^\/room-\d+$/).use((_socket, next) => next(new Error("closed")));
    // 45 refusals over 5 connections (a tenth refusal would close a connection)
    const refusals = new Set<string>();
    for (let c = 0; c < 5; c++) {
      const raw = new RawWs(`ws://127.0.0.1:${s.port}/socket.io/?EIO=4&transport=websocket`);
      t.after(() => raw.ws.terminate());
      await raw.next(); // open packet
      for (let i = 0; i < MAX_REFUSED_CONNECTS - 1; i++) raw.send(`40/room-${c}${i},`);
      const expected = refusals.size + MAX_REFUSED_CONNECTS - 1;
      while (refusals.size < expected) {
        const frame = String(await raw.next());
        const m = /^44(\/room-\d+),/.exec(frame);
        if (m) refusals.add(m[1] as string);
      }
    }
    assert.equal(refusals.size, 5 * (MAX_REFUSED_CONNECTS - 1));
    assert.deepEqual([...s.io.namespaces.keys()], ["/"]);
  });

  test("an adapter whose init() rejects does not crash the server; it becomes a process warning", async (t) => {
    class FailingAdapter extends Adapter {
      override init(): Promise<void> {
        return Promise.reject(new Error("broker unreachable"));
      }
    }
    const warning = waitFor<[Error]>(process, "warning");
    const s = await startIo({ adapter: FailingAdapter as unknown as new (nsp: AdapterNamespace) => Adapter });
    t.after(() => s.close());
    const [w] = await warning;
    assert.equal(w.name, "TuttiWarning");
    assert.match(w.message, /adapter init failed: broker unreachable/);
    await connected(s.client());
  });

  test("io.adapter(Class) initializes the adapters it gives to existing namespaces", async (t) => {
    const s = await startIo();
    t.after(() => s.close());
    s.io.of("/a");
    const initialized: string[] = [];
    class Recording extends Adapter {
      override init(): void {
        initialized.push(this.nsp.name);
      }
    }
    s.io.adapter(Recording as unknown as new (nsp: AdapterNamespace) => Adapter);
    s.io.of("/b");
    assert.deepEqual(initialized.sort(), ["/", "/a", "/b"]);
  });

  test("a client reconnecting a namespace at once (connect, disconnect, connect) keeps the connection", async (t) => {
    const s = await startIo();
    t.after(() => s.close());
    const answer = (socket: { on(ev: string, fn: (ack: () => void) => void): unknown }) =>
      socket.on("ping", (ack) => ack());
    s.io.on("connection", answer);
    s.io.of("/chat").on("connection", answer);
    const manager = new Manager(s.url, { forceNew: true, transports: ["websocket"], reconnection: false });
    const main = manager.socket("/");
    t.after(() => {
      main.disconnect();
      manager.engine?.close();
    });
    await connected(main);
    const chat = manager.socket("/chat");
    chat.connect();
    chat.disconnect();
    chat.connect();
    await connected(chat);
    // a round trip on each namespace proves both are live, on the server too
    await chat.timeout(2000).emitWithAck("ping");
    await main.timeout(2000).emitWithAck("ping");
    assert.equal(main.connected, true);
    assert.equal(s.io.of("/chat").sockets.size, 1);
    assert.equal([...s.io.of("/chat").sockets.keys()][0], chat.id);
  });

  test("a timed-out broadcast ack on a dynamic parent forgets the acks it awaited", async (t) => {
    const s = await startIo();
    t.after(() => s.close());
    const parent = s.io.of(/^\/q-\d+$/);
    const client = s.client("/q-1");
    await connected(client); // the client never acks "question"
    const [err] = await new Promise<[Error | null]>((resolve) =>
      parent.timeout(20).emit("question", (e: Error | null) => resolve([e])),
    );
    assert.equal(err?.message, "operation has timed out");
    const child = [...s.io.of("/q-1").sockets.values()][0];
    assert.equal(child?.pendingAcks, 0);
  });

  test("an object whose toJSON returns itself is sent as JSON.stringify would", async (t) => {
    const s = await startIo();
    t.after(() => s.close());
    const client = s.client();
    await connected(client);
    const self = {
      id: 1,
      name: "x",
      toJSON() {
        return this;
      },
    };
    const received = waitFor<[unknown]>(client, "thing");
    s.io.emit("thing", self);
    assert.deepEqual((await received)[0], { id: 1, name: "x" });
  });
});

describe("parity with socket.io's own server tests", () => {
  test("the client bundle: source maps as JSON, br/gzip as accepted, the server's CORS headers", async (t) => {
    const s = await startIo({ cors: { origin: "https://good.example" } });
    t.after(() => s.close());
    const map = await fetch(`${s.url}/socket.io/socket.io.js.map`);
    assert.equal(map.status, 200);
    assert.equal(map.headers.get("content-type"), "application/json; charset=utf-8");
    for (const encoding of ["br", "gzip"]) {
      const res = await rawGet(s.port, "/socket.io/socket.io.min.js", {
        "accept-encoding": encoding,
        origin: "https://good.example",
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers["content-encoding"], encoding);
      assert.equal(res.headers["access-control-allow-origin"], "https://good.example");
      const plain = encoding === "br" ? brotliDecompressSync(res.body) : gunzipSync(res.body);
      assert.match(plain.toString(), /Socket\.IO v4/);
    }
  });

  test("with CORS on, any OPTIONS request is a preflight answered 204 with the CORS headers", async (t) => {
    const s = await startIo({ cors: { origin: "https://good.example", credentials: true } });
    t.after(() => s.close());
    const res = await rawGet(
      s.port,
      "/socket.io/?EIO=4&transport=polling",
      { origin: "https://good.example" },
      "OPTIONS",
    );
    assert.equal(res.status, 204);
    assert.equal(res.headers["access-control-allow-origin"], "https://good.example");
    assert.equal(res.headers["access-control-allow-credentials"], "true");
  });

  test("close(callback) on a server whose HTTP server never listened gives ERR_SERVER_NOT_RUNNING", async () => {
    const io = new Server(createServer());
    const err = await new Promise<Error | undefined>((resolve) => io.close(resolve));
    assert.equal((err as NodeJS.ErrnoException | undefined)?.code, "ERR_SERVER_NOT_RUNNING");
  });

  test("a closed server can listen again, and clients reconnect to it", async (t) => {
    const port = await freePort();
    const io = new Server(port);
    t.after(() => io.close());
    io.on("connection", (socket) => socket.on("hi", (ack: (v: string) => void) => ack("hello")));
    const client = ioClient(`http://127.0.0.1:${port}`, {
      forceNew: true,
      transports: ["websocket"],
      reconnectionDelay: 20,
      reconnectionDelayMax: 50,
    });
    t.after(() => client.close());
    await connected(client);
    await new Promise<void>((resolve) => io.close(() => resolve()));
    io.listen(port);
    await waitFor(client, "connect");
    assert.equal(await client.timeout(2000).emitWithAck("hi"), "hello");
  });

  test("socket.client.request, io._nsps and packetCreate's options, which socket.io apps reach for", async (t) => {
    const s = await startIo();
    t.after(() => s.close());
    const client = s.client("/", { extraHeaders: { "x-app": "1" } }, "polling");
    const [socket] = await waitFor<[Socket]>(s.io, "connection");
    await connected(client);
    assert.equal(socket.client.request.headers["x-app"], "1");
    assert.equal(s.io._nsps.get("/"), s.io.sockets);
    const compress: boolean[] = [];
    socket.conn.on("packetCreate", (packet) => compress.push(packet.options.compress));
    socket.compress(false).emit("a");
    socket.emit("b");
    assert.deepEqual(compress, [false, true]);
  });
});

function rawGet(
  port: number,
  path: string,
  headers: Record<string, string>,
  method = "GET",
): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function freePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe("second review", () => {
  test("packets held behind a slow CONNECT are bounded in bytes (maxHttpBufferSize in all)", async (t) => {
    const s = await startIo({ maxHttpBufferSize: 10_000 });
    t.after(() => s.close());
    let release: () => void = () => {};
    s.io.of("/slow").use((_socket, next) => {
      release = () => next();
    });
    const raw = new RawWs(`ws://127.0.0.1:${s.port}/socket.io/?EIO=4&transport=websocket`);
    t.after(() => raw.ws.terminate());
    await raw.next(); // open packet
    raw.send("40/slow,");
    const chunk = "y".repeat(4_000);
    for (let i = 0; i < 3; i++) raw.send(`42/slow,["big","${chunk}"]`); // 12 kB held > 10 kB
    await raw.waitClosed();
    release();
    assert.equal(s.io.of("/slow").sockets.size, 0);
  });

  test("the client bundle keeps CORS's Vary: Origin, and answers HEAD", async (t) => {
    const s = await startIo({ cors: { origin: ["https://a.example", "https://b.example"], credentials: true } });
    t.after(() => s.close());
    const get = await rawGet(s.port, "/socket.io/socket.io.min.js", { origin: "https://a.example" });
    assert.equal(get.headers["access-control-allow-origin"], "https://a.example");
    assert.match(String(get.headers.vary), /Origin/);
    assert.match(String(get.headers.vary), /Accept-Encoding/);
    const head = await rawGet(s.port, "/socket.io/socket.io.min.js", {}, "HEAD");
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.equal(head.headers.etag, get.headers.etag);
  });

  test("a server closed and attached again to the same HTTP server serves WebSocket clients", async (t) => {
    const httpServer = createServer();
    await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
    const { port } = httpServer.address() as AddressInfo;
    const io = new Server(httpServer);
    await new Promise<void>((resolve) => io.close(() => resolve()));
    await new Promise<void>((resolve) => httpServer.listen(port, "127.0.0.1", resolve));
    io.attach(httpServer);
    t.after(() => io.close());
    io.on("connection", (socket) => socket.on("hi", (ack: (v: string) => void) => ack("again")));
    const client = ioClient(`http://127.0.0.1:${port}`, { forceNew: true, transports: ["websocket"] });
    t.after(() => client.close());
    await connected(client);
    assert.equal(await client.timeout(2000).emitWithAck("hi"), "again");
  });
});
