import assert from "node:assert/strict";
import { type IncomingMessage, request } from "node:http";
import { type Socket as NetSocket, connect as netConnect } from "node:net";
import { describe, test } from "node:test";
import { Socket as EngineClient } from "engine.io-client";
import { WebSocket } from "ws";
import { addressKey } from "../src/engine/options.js";
import { type Socket, TuttiError } from "../src/index.js";
import { decodeSocketPacketText } from "../src/protocol/index.js";
import { MAX_REFUSED_CONNECTS } from "../src/server/client.js";
import { handshakeUrl, until, type WsRefusal, wsHandshakeAnswer } from "./helpers.js";
import { connected, startIo, waitFor } from "./sio-helpers.js";

// Edges of the limits found in review: user callbacks that throw, handshakes held in async
// hooks, polls that are never read, exact boundaries, and the order of the origin check.

interface HttpAnswer {
  status: number;
  statusMessage: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? "GET", headers: opts.headers, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, statusMessage: res.statusMessage ?? "", headers: res.headers, body }),
      );
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

describe("user callbacks that throw", () => {
  test("a clientAddress that throws refuses the handshake with 400; the server stays up", async () => {
    const s = await startIo({
      clientAddress: (req) => (req.headers["x-forwarded-for"] as string).split(",")[0] as string,
    });
    try {
      const errors: Array<{ context: Record<string, unknown> }> = [];
      s.io.engine.on("connection_error", (e) => errors.push(e));
      const refused = await send(handshakeUrl(s.port));
      assert.equal(refused.status, 400);
      assert.equal(errors[0]?.context.name, "CLIENT_ADDRESS_ERROR");
      const forwarded = await send(handshakeUrl(s.port), { headers: { "x-forwarded-for": "10.0.0.9, 10.0.0.1" } });
      assert.equal(forwarded.status, 200);
      await connected(s.client("/", { extraHeaders: { "x-forwarded-for": "10.0.0.7" } }));
    } finally {
      await s.close();
    }
  });

  test("an allowRequest that throws refuses with 403, over polling and WebSocket; the server stays up", async () => {
    const s = await startIo({
      allowRequest: (req, callback) => {
        if (req.headers["x-boom"] !== undefined) throw new Error("boom");
        callback(null, true);
      },
    });
    try {
      assert.equal((await send(handshakeUrl(s.port), { headers: { "x-boom": "1" } })).status, 403);
      const res = (await wsHandshakeAnswer(handshakeUrl(s.port, "websocket"), { "x-boom": "1" })) as WsRefusal;
      assert.equal(res.status, 403);
      assert.equal(res.statusText, "Forbidden");
      await connected(s.client());
    } finally {
      await s.close();
    }
  });
});

describe("connections per address with async hooks", () => {
  test("handshakes waiting in an async allowRequest count against maxConnectionsPerIp", async () => {
    const held: Array<{ req: IncomingMessage; answer: () => void }> = [];
    const s = await startIo(
      {
        maxConnectionsPerIp: 3,
        handshakeRate: false,
        allowRequest: (req, callback) => {
          if (req.headers["x-hold"]) held.push({ req, answer: () => callback(null, true) });
          else setTimeout(() => callback(req.headers["x-deny"] ? "denied" : null, !req.headers["x-deny"]), 50);
        },
      },
      "polling",
    );
    try {
      // a refused handshake gives its place back
      assert.equal((await send(handshakeUrl(s.port), { headers: { "x-deny": "1" } })).status, 403);
      // so does one whose client goes away while it waits, even when allowRequest admits it later
      const aborted = request(handshakeUrl(s.port), { agent: false, headers: { "x-hold": "1" } });
      aborted.on("error", () => undefined);
      aborted.end();
      await until(() => held.length === 1, "the held handshake");
      const [waiting] = held as [{ req: IncomingMessage; answer: () => void }];
      const gone = new Promise((resolve) => waiting.req.socket.once("close", resolve));
      aborted.destroy();
      await gone;
      waiting.answer();

      const answers = await Promise.all(Array.from({ length: 10 }, () => send(handshakeUrl(s.port))));
      const statuses = answers.map((a) => a.status).sort();
      assert.deepEqual(statuses, [200, 200, 200, 429, 429, 429, 429, 429, 429, 429]);
      assert.equal(s.io.engine.clientsCount, 3);
    } finally {
      await s.close();
    }
  });

  test("WebSocket handshakes waiting in an async generateId count too", async () => {
    const s = await startIo({ maxConnectionsPerIp: 2, handshakeRate: false });
    try {
      s.io.engine.generateId = () => new Promise((resolve) => setTimeout(() => resolve(crypto.randomUUID()), 50));
      // the opened sockets stay open: their sessions hold their places
      const answers = await Promise.all(
        Array.from({ length: 6 }, () => wsHandshakeAnswer(handshakeUrl(s.port, "websocket"))),
      );
      const outcomes = answers.map((a) => (a instanceof WebSocket ? "open" : a.status));
      assert.deepEqual(outcomes.map(String).sort(), ["429", "429", "429", "429", "open", "open"]);
      assert.equal(s.io.engine.clientsCount, 2);
    } finally {
      await s.close();
    }
  });

  test("a refused upgrade answers its status line with the status's own text", async () => {
    const s = await startIo({ handshakeRate: { burst: 1, perSecond: 0.001 } });
    try {
      assert.equal((await send(handshakeUrl(s.port))).status, 200);
      const res = (await wsHandshakeAnswer(handshakeUrl(s.port, "websocket"))) as WsRefusal;
      assert.equal(res.status, 429);
      assert.equal(res.statusText, "Too Many Requests");
    } finally {
      await s.close();
    }
  });
});

describe("addresses", () => {
  test("the default address key: IPv4 as it is, IPv4-mapped as IPv4, IPv6 as its /64", () => {
    assert.equal(addressKey("203.0.113.7"), "203.0.113.7");
    assert.equal(addressKey("::ffff:203.0.113.7"), "203.0.113.7");
    assert.equal(addressKey("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
    assert.equal(addressKey("2001:DB8:0001:0002::9"), "2001:db8:1:2::/64");
    assert.equal(addressKey("2001:db8::1"), "2001:db8:0:0::/64");
    assert.equal(addressKey("fe80::1%eth0"), "fe80:0:0:0::/64");
    assert.equal(addressKey("64:ff9b::192.0.2.1"), "64:ff9b:0:0::/64");
    assert.equal(addressKey(""), "");
  });
});

describe("exact boundaries", () => {
  test("maxArguments counts an ack's arguments and an event's arguments alike, the name aside", () => {
    const ok = (text: string): boolean => "header" in decodeSocketPacketText(text, 10, 3, 512);
    assert.equal(ok('2["e",1,2,3]'), true);
    assert.equal(ok('2["e",1,2,3,4]'), false);
    assert.equal(ok("31[1,2,3]"), true);
    assert.equal(ok("31[1,2,3,4]"), false);
  });

  test("maxDepth counts levels inside each argument, and inside CONNECT auth", () => {
    const ok = (text: string): boolean => "header" in decodeSocketPacketText(text, 10, 1000, 2);
    assert.equal(ok('2["e",[[1]],{"a":{"b":1}}]'), true);
    assert.equal(ok('2["e",[[[1]]]]'), false);
    assert.equal(ok("31[[[1]]]"), true);
    assert.equal(ok("31[[[[1]]]]"), false);
    assert.equal(ok('0{"a":{"b":1}}'), true);
    assert.equal(ok('0{"a":{"b":{"c":1}}}'), false);
  });

  test("a room listed twice counts once against maxRoomsPerSocket", async () => {
    const s = await startIo({ maxRoomsPerSocket: 3 });
    try {
      const joined = waitFor<[Socket]>(s.io, "connection");
      s.client();
      const [socket] = await joined;
      socket.join(["a", "b"]);
      socket.join(["d", "d"]);
      assert.deepEqual([...socket.rooms].sort(), [socket.id, "a", "b", "d"].sort());
      assert.throws(
        () => socket.join(["e", "e"]),
        (err: unknown) => err instanceof TuttiError && err.code === "ROOM_LIMIT_EXCEEDED",
      );
    } finally {
      await s.close();
    }
  });

  test("Infinity lifts maxAttachments, maxArguments and maxDepth", async () => {
    const s = await startIo({
      maxAttachments: Number.POSITIVE_INFINITY,
      maxArguments: Number.POSITIVE_INFINITY,
      maxDepth: Number.POSITIVE_INFINITY,
    });
    try {
      s.io.on("connection", (socket) => {
        socket.on("count", (...args: unknown[]) => {
          const ack = args.pop() as (n: number) => void;
          ack(args.length);
        });
      });
      const c = s.client();
      await connected(c);
      const many = Array.from({ length: 1500 }, (_, i) => i);
      assert.equal(await c.timeout(5000).emitWithAck("count", ...many), 1500);
      const buffers = Array.from({ length: 20 }, () => Buffer.from([1]));
      assert.equal(await c.timeout(5000).emitWithAck("count", ...buffers), 20);
      const deep = JSON.parse(`${"[".repeat(600)}1${"]".repeat(600)}`) as unknown;
      assert.equal(await c.timeout(5000).emitWithAck("count", deep), 1);
    } finally {
      await s.close();
    }
  });
});

describe("origin check order", () => {
  test("a refused origin gets 403 before CORS and the middlewares: no CORS headers, no middleware run", async () => {
    const s = await startIo({ allowedOrigins: ["https://app.example"], cors: { origin: true } });
    try {
      const seen: string[] = [];
      s.io.engine.use((req, _res, next) => {
        seen.push(String(req.headers.origin));
        next();
      });
      const preflight = await send(handshakeUrl(s.port), {
        method: "OPTIONS",
        headers: { origin: "https://evil.example", "access-control-request-method": "GET" },
      });
      assert.equal(preflight.status, 403);
      assert.equal(preflight.headers["access-control-allow-origin"], undefined);
      const handshake = await send(handshakeUrl(s.port), { headers: { origin: "https://evil.example" } });
      assert.equal(handshake.status, 403);
      assert.equal(handshake.headers["access-control-allow-origin"], undefined);
      assert.deepEqual(seen, []);
      const ok = await send(handshakeUrl(s.port), { headers: { origin: "https://app.example" } });
      assert.equal(ok.status, 200);
      assert.equal(ok.headers["access-control-allow-origin"], "https://app.example");
      assert.deepEqual(seen, ["https://app.example"]);
    } finally {
      await s.close();
    }
  });
});

describe("events and CONNECTs a client may not abuse", () => {
  test("a client's event named 'error' is dropped: the app's error listeners only hear the server", async () => {
    const s = await startIo();
    try {
      const errors: unknown[] = [];
      const pings: unknown[] = [];
      s.io.on("connection", (socket) => {
        socket.on("error", (err) => errors.push(err));
        socket.on("ping", (v: unknown) => pings.push(v));
      });
      const c = s.client();
      await connected(c);
      c.emit("error", { code: "ACCESS_DENIED", refusal: { message: "forged" } });
      c.emit("error");
      c.emit("ping", 1);
      await until(() => pings.length === 1, "the ping after the forged errors");
      assert.deepEqual(errors, []);
    } finally {
      await s.close();
    }
  });

  test(`after ${MAX_REFUSED_CONNECTS} refused CONNECTs on one connection, it is closed`, async () => {
    const s = await startIo();
    try {
      s.io.use((socket, next) => next(socket.handshake.auth.token === "good" ? undefined : new Error("no entry")));
      // socket.io-client opens a new connection for each retry; a raw client need not
      const raw = new EngineClient(`ws://127.0.0.1:${s.port}`, { transports: ["websocket"], path: "/socket.io/" });
      let refusals = 0;
      raw.on("message", (data) => {
        if (String(data).startsWith("4")) {
          refusals++;
          raw.send('0{"token":"guess"}');
        }
      });
      raw.on("open", () => raw.send('0{"token":"guess"}'));
      await waitFor(raw, "close", 10_000);
      assert.equal(refusals, MAX_REFUSED_CONNECTS);
      // a well-behaved client on the same server is unaffected
      await connected(s.client("/", { auth: { token: "good" } }));
    } finally {
      await s.close();
    }
  });
});

/** A GET poll on a connection of its own whose response is never read. */
function unreadPoll(port: number, sid: string): NetSocket {
  const tcp = netConnect(port, "127.0.0.1");
  tcp.on("error", () => undefined);
  tcp.write(`GET /socket.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  tcp.pause();
  return tcp;
}

describe("polling slow consumers", () => {
  test("a client that polls again without reading the last response is closed as 'slow consumer'", async () => {
    // Loopback's kernel buffers take a few MiB of an unread response: each response is made
    // larger than that, so the rest stays with the server, where it must be counted.
    const limit = 16 * 1024 * 1024;
    const s = await startIo({ maxBufferedBytes: limit, pingTimeout: 60_000, pingInterval: 60_000 }, "polling");
    const polls: NetSocket[] = [];
    try {
      const sockets: Socket[] = [];
      s.io.on("connection", (socket) => sockets.push(socket));
      const healthy = s.client();
      await connected(healthy);
      const open = await send(handshakeUrl(s.port));
      const sid = (JSON.parse(open.body.slice(1)) as { sid: string }).sid;
      assert.equal((await send(`${handshakeUrl(s.port)}&sid=${sid}`, { method: "POST", body: "40" })).body, "ok");
      assert.match((await send(`${handshakeUrl(s.port)}&sid=${sid}`)).body, /^40/);
      await until(() => sockets.length === 2, "the raw client's socket");
      const slow = sockets.find((x) => x.id !== healthy.id) as Socket;
      const disconnected = waitFor<[string]>(slow, "disconnect", 30_000);

      const chunk = "x".repeat(4 * 1024 * 1024);
      let flushes = 0;
      slow.conn.on("flush", () => flushes++);
      let peak = 0;
      for (let round = 0; round < 20 && slow.connected; round++) {
        for (let i = 0; i < 3 && slow.connected; i++) slow.emit("data", chunk);
        polls.push(unreadPoll(s.port, sid));
        // wait until the server has written this poll's response, or closed the session
        const before = flushes;
        await until(() => !slow.connected || flushes > before, "the response to be written", 20_000);
        peak = Math.max(peak, slow.conn.bufferedBytes);
      }
      const [reason] = await disconnected;
      assert.equal(reason, "slow consumer");
      assert.ok(peak <= limit + chunk.length + 64, `peak backlog ${peak} within the limit`);
      assert.equal(
        await healthy
          .timeout(10_000)
          .emitWithAck("nobody")
          .catch(() => "answered by timeout"),
        "answered by timeout",
      );
      assert.equal(healthy.connected, true);
    } finally {
      for (const p of polls) p.destroy();
      await s.close();
    }
  });
});
