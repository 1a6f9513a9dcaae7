import assert from "node:assert/strict";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, test } from "node:test";
import session from "express-session";
import { type Socket as ClientSocket, io as ioClient } from "socket.io-client";
import { type EngineSession, Server, type Socket } from "../src/index.js";
import { FakeClock } from "../src/testing/index.js";
import { RawWs, until } from "./helpers.js";
import { connected, startIo, waitFor } from "./sio-helpers.js";

// Behaviour compared with engine.io 6.6 / socket.io 4.8 in review: listeners that throw, the
// pong wait, late request listeners, send's callback form, the handshake's query, and the
// express-session pattern from socket.io's guide.

/** Runs `body` with the process's uncaught-exception handlers replaced by one that records. */
async function catchingUncaught(body: (caught: unknown[]) => Promise<void>): Promise<void> {
  const saved = process.listeners("uncaughtException");
  process.removeAllListeners("uncaughtException");
  const caught: unknown[] = [];
  process.on("uncaughtException", (err) => caught.push(err));
  try {
    await body(caught);
  } finally {
    process.removeAllListeners("uncaughtException");
    for (const listener of saved) process.on("uncaughtException", listener);
  }
}

describe("an app's listener that throws", () => {
  test("a throwing 'flush' listener loses nothing and does not stall other connections", async () => {
    await catchingUncaught(async (caught) => {
      const s = await startIo();
      try {
        const sockets: Socket[] = [];
        s.io.on("connection", (socket) => sockets.push(socket));
        const a = s.client();
        const b = s.client();
        await Promise.all([connected(a), connected(b)]);
        await until(() => sockets.length === 2, "both sockets");
        const got = { a: [] as number[], b: [] as number[] };
        a.on("m", (i: number) => got.a.push(i));
        b.on("m", (i: number) => got.b.push(i));
        const first = sockets.find((x) => x.id === a.id) as Socket;
        first.conn.once("flush", () => {
          throw new Error("app bug");
        });
        for (let i = 0; i < 3; i++) s.io.emit("m", i);
        await until(() => got.a.length === 3 && got.b.length === 3, "every message to both");
        assert.deepEqual(got, { a: [0, 1, 2], b: [0, 1, 2] });
        assert.equal(caught.length, 1);
        s.io.emit("m", 3);
        await until(() => got.b.length === 4, "later messages");
      } finally {
        await s.close();
      }
    });
  });

  test("a throwing 'disconnect' listener on a ping timeout does not keep other silent clients alive", async () => {
    // long, so that the healthy client's own ping watchdog (real time) never fires meanwhile
    const clock = new FakeClock();
    const s = await startIo({ pingInterval: 60_000, pingTimeout: 60_000, clock });
    try {
      let thrown = false;
      s.io.on("connection", (socket) => {
        socket.on("disconnect", () => {
          if (thrown) return;
          thrown = true;
          throw new Error("app bug");
        });
      });
      const silent: RawWs[] = [];
      for (let i = 0; i < 3; i++) {
        const raw = new RawWs(`ws://127.0.0.1:${s.port}/socket.io/?EIO=4&transport=websocket`);
        await raw.next(); // open packet; pings are never answered
        raw.ws.send("40");
        assert.match(String(await raw.next()), /^40/);
        silent.push(raw);
      }
      const healthy = s.client();
      await connected(healthy);
      const sessions = [...s.io.engine.clients.values()];
      const healthySession = sessions.at(-1) as EngineSession;
      const answered = new Promise<void>((resolve) => healthySession.once("heartbeat", () => resolve()));
      clock.advance(60_000);
      await answered; // the healthy client's pong
      // the timer that reaps the silent sessions throws the listener's error once all are closed
      assert.throws(() => clock.advance(60_000), /app bug/);
      assert.deepEqual(
        sessions.map((session) => session.readyState),
        ["closed", "closed", "closed", "open"],
      );
      await until(() => silent.every((r) => r.closed), "every silent client to be reaped");
      assert.equal(s.io.engine.clientsCount, 1);
      assert.equal(healthy.connected, true);
    } finally {
      await s.close();
    }
  });
});

describe("heartbeat", () => {
  test("a packet from the client while a pong is awaited extends the wait once, as engine.io 6.6 does", async () => {
    const clock = new FakeClock();
    const s = await startIo({ pingInterval: 300, pingTimeout: 2000, clock });
    try {
      const closes: string[] = [];
      let conn: EngineSession | undefined;
      s.io.engine.on("connection", (c: EngineSession) => {
        conn = c;
        c.on("close", (reason: string) => closes.push(reason));
      });
      /** The next packet of `type` the server receives from the client. */
      const received = (type: string): Promise<void> =>
        new Promise((resolve) => {
          const onPacket = (packet: { type: string }): void => {
            if (packet.type !== type) return;
            conn?.off("packet", onPacket);
            resolve();
          };
          conn?.on("packet", onPacket);
        });
      const raw = new RawWs(`ws://127.0.0.1:${s.port}/socket.io/?EIO=4&transport=websocket`);
      await raw.next();
      raw.ws.send("40");
      assert.match(String(await raw.next()), /^40/);
      clock.advance(300);
      assert.equal(await raw.next(), "2");
      // 1 s into the 2 s wait, a packet: the wait starts again from here
      clock.advance(1000);
      const busy = received("message");
      raw.ws.send('42["busy"]');
      await busy;
      clock.advance(1999); // past the first deadline, 1 ms before the new one
      assert.deepEqual(closes, []);
      const pong = received("pong");
      raw.ws.send("3");
      await pong;
      assert.deepEqual(closes, []);
      assert.equal(raw.closed, false);
      // without a packet in between, the plain timeout holds
      clock.advance(300);
      assert.equal(await raw.next(), "2");
      clock.advance(1999);
      assert.deepEqual(closes, []);
      clock.advance(1);
      assert.deepEqual(closes, ["ping timeout"]);
    } finally {
      await s.close();
    }
  });
});

describe("engine API forms", () => {
  test("conn.send(data, callback) calls the callback once written", async () => {
    const s = await startIo();
    try {
      const joined = waitFor<[Socket]>(s.io, "connection");
      const c = s.client();
      await connected(c);
      const [socket] = await joined;
      const written = new Promise<void>((resolve) => socket.conn.send('2["x"]', () => resolve()));
      const got = waitFor(c, "x");
      await written;
      await got;
    } finally {
      await s.close();
    }
  });

  test("a request listener the app adds after attaching answers the requests the engine does not take", async () => {
    const http = createServer();
    const io = new Server(http);
    http.on("request", (_req, res) => res.end("app"));
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    try {
      const port = (http.address() as AddressInfo).port;
      const body = await new Promise<string>((resolve, reject) => {
        request(`http://127.0.0.1:${port}/hello`, (res) => {
          let text = "";
          res.on("data", (d: Buffer) => {
            text += d.toString();
          });
          res.on("end", () => resolve(text));
        })
          .on("error", reject)
          .end();
      });
      assert.equal(body, "app");
    } finally {
      await io.close();
    }
  });

  test("handshake.query is a plain object, the last value of a repeated key winning; xdomain needs a non-empty Origin", async () => {
    const s = await startIo();
    try {
      const joined = waitFor<[Socket]>(s.io, "connection");
      const c = s.client("/", { query: { room: "a" }, extraHeaders: { origin: "" } });
      await connected(c);
      const [socket] = await joined;
      assert.equal(socket.handshake.query.room, "a");
      assert.equal(Object.hasOwn(socket.handshake.query, "EIO"), true);
      assert.equal(Object.hasOwn(socket.handshake.query, "room"), true);
      assert.equal(socket.handshake.xdomain, false);
      const raw = new RawWs(`ws://127.0.0.1:${s.port}/socket.io/?EIO=4&transport=websocket&room=a&room=b`);
      await raw.next();
      const second = waitFor<[Socket]>(s.io, "connection");
      raw.ws.send("40");
      const [other] = await second;
      assert.equal(other.handshake.query.room, "b");
      raw.ws.close();
    } finally {
      await s.close();
    }
  });
});

describe("what a session keeps of its handshake request", () => {
  for (const mode of ["websocket", "polling"] as const) {
    test(`without middleware properties, a snapshot (over ${mode}): no raw headers or stream state`, async () => {
      const s = await startIo({}, mode);
      try {
        const joined = waitFor<[Socket]>(s.io, "connection");
        await connected(s.client("/", { extraHeaders: { "x-app": "1" } }));
        const [socket] = await joined;
        assert.equal(socket.request.headers["x-app"], "1");
        assert.equal(Object.hasOwn(socket.request, "rawHeaders"), false);
        assert.equal(Object.hasOwn(socket.request, "_readableState"), false);
      } finally {
        await s.close();
      }
    });
  }
});

describe("express-session, as socket.io's guide uses it", () => {
  test("req.session.reload() in a socket middleware sees changes made over HTTP, and save() keeps them", async () => {
    const store = new session.MemoryStore();
    const sessionMiddleware = session({ secret: "a test secret", resave: false, saveUninitialized: true, store });
    const http = createServer((req, res) => {
      sessionMiddleware(req as never, res as never, () => {
        const s = (req as unknown as { session: { count?: number; save(cb: () => void): void } }).session;
        s.count = (s.count ?? 0) + (req.url === "/bump" ? 100 : 0);
        s.save(() => res.end(String(s.count)));
      });
    });
    const io = new Server(http);
    io.engine.use(sessionMiddleware as never);
    io.on("connection", (socket) => {
      const req = socket.request as unknown as {
        session: { count?: number; reload(cb: (err?: unknown) => void): void; save(): void };
      };
      socket.use((_event, next) => {
        req.session.reload((err) => (err ? socket.disconnect() : next()));
      });
      socket.on("count", (ack: (n: number | undefined) => void) => {
        req.session.count = (req.session.count ?? 0) + 1;
        req.session.save();
        ack(req.session.count);
      });
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const port = (http.address() as AddressInfo).port;
    const get = (path: string, cookie?: string): Promise<{ body: string; cookie: string | undefined }> =>
      new Promise((resolve, reject) => {
        request(`http://127.0.0.1:${port}${path}`, { headers: cookie ? { cookie } : {} }, (res) => {
          let body = "";
          res.on("data", (d: Buffer) => {
            body += d.toString();
          });
          res.on("end", () => resolve({ body, cookie: res.headers["set-cookie"]?.[0]?.split(";")[0] }));
        })
          .on("error", reject)
          .end();
      });
    let client: ClientSocket | undefined;
    try {
      const { cookie } = await get("/");
      assert.ok(cookie);
      for (const transports of [["websocket"], ["polling"]]) {
        const c: ClientSocket = ioClient(`http://127.0.0.1:${port}`, {
          transports,
          extraHeaders: { cookie },
          forceNew: true,
        });
        client = c;
        await connected(c);
        const before: number = await c.timeout(5000).emitWithAck("count");
        const bumped: number = Number((await get("/bump", cookie)).body);
        assert.equal(bumped, before + 100);
        assert.equal(await c.timeout(5000).emitWithAck("count"), before + 101);
        c.disconnect();
      }
      assert.equal(Number((await get("/", cookie)).body), 204);
    } finally {
      client?.disconnect();
      await io.close();
    }
  });
});
