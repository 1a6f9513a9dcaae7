import assert from "node:assert/strict";
import { request } from "node:http";
import { type Socket as NetSocket, connect as netConnect } from "node:net";
import { describe, test } from "node:test";
import { WebSocket } from "ws";
import { type Socket, TuttiError } from "../src/index.js";
import { handshakeUrl, until, wsHandshake } from "./helpers.js";
import { connected, startIo, waitFor } from "./sio-helpers.js";

interface HttpAnswer {
  status: number;
  body: string;
}

function get(url: string, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("rooms per socket", () => {
  test("join() past maxRoomsPerSocket throws ROOM_LIMIT_EXCEEDED and joins none of the rooms", async () => {
    const s = await startIo({ maxRoomsPerSocket: 3 });
    try {
      const joined = waitFor<[Socket]>(s.io, "connection");
      s.client();
      const [socket] = await joined;
      socket.join(["a", "b"]);
      socket.join("a"); // already in: not counted again
      assert.throws(
        () => socket.join(["c", "d"]),
        (err: unknown) => err instanceof TuttiError && err.code === "ROOM_LIMIT_EXCEEDED",
      );
      assert.deepEqual([...socket.rooms].sort(), [socket.id, "a", "b"].sort());
      assert.equal(socket.canJoin("c"), true);
      socket.join("c"); // its own room does not count: three rooms is the limit
      assert.equal(socket.canJoin("d"), false);
      socket.leave("a");
      socket.join("d");
      assert.deepEqual([...socket.rooms].sort(), [socket.id, "b", "c", "d"].sort());
    } finally {
      await s.close();
    }
  });

  test("a socket's joinPolicy refuses rooms with JOIN_NOT_ALLOWED, atomically", async () => {
    const s = await startIo();
    try {
      const joined = waitFor<[Socket]>(s.io, "connection");
      s.client();
      const [socket] = await joined;
      socket.joinPolicy = (room) => room.startsWith("public:");
      assert.throws(
        () => socket.join(["public:1", "secret"]),
        (err: unknown) => err instanceof TuttiError && err.code === "JOIN_NOT_ALLOWED",
      );
      assert.equal(socket.rooms.has("public:1"), false);
      socket.join("public:1");
      assert.equal(socket.rooms.has("public:1"), true);
      assert.equal(socket.canJoin("secret"), false);
    } finally {
      await s.close();
    }
  });
});

describe("pending acks per socket", () => {
  test("an emit with an ack past maxPendingAcks is not sent: its callback gets ACK_LIMIT_EXCEEDED; emitWithAck rejects", async () => {
    const s = await startIo({ maxPendingAcks: 2 });
    try {
      const joined = waitFor<[Socket]>(s.io, "connection");
      const client = s.client();
      let answer: ((v: string) => void) | undefined;
      let asks = 0;
      const asked = new Promise<void>((resolve) => {
        client.on("ask", (cb: (v: string) => void) => {
          if (++asks === 2) {
            answer = cb;
            resolve();
          }
        });
      });
      const [socket] = await joined;
      const first = socket.emitWithAck("ask");
      socket.emit("ask", () => undefined);
      assert.equal(socket.pendingAcks, 2);
      const refused = new Promise<unknown>((resolve) => socket.emit("ask", resolve));
      const err = await refused;
      assert.ok(err instanceof TuttiError && err.code === "ACK_LIMIT_EXCEEDED", String(err));
      await assert.rejects(
        socket.emitWithAck("ask"),
        (err: unknown) => err instanceof TuttiError && err.code === "ACK_LIMIT_EXCEEDED",
      );
      socket.emit("plain"); // an emit without an ack is not limited
      await asked;
      answer?.("done");
      await until(() => socket.pendingAcks === 1, "one ack answered");
      socket.emit("ask", () => undefined); // room again
      assert.equal(socket.pendingAcks, 2);
      assert.equal(asks, 2, "the refused emits were not sent");
      void first;
    } finally {
      await s.close();
    }
  });
});

describe("payload shape", () => {
  test("an event past maxArguments, or nested past maxDepth, is a parse error; within them it is delivered", async () => {
    const s = await startIo({ maxArguments: 3, maxDepth: 4 });
    try {
      const reasons: string[] = [];
      s.io.on("connection", (socket) => {
        socket.on("disconnect", (reason) => reasons.push(reason));
        socket.on("echo", (...args: unknown[]) => {
          const ack = args.pop() as (...a: unknown[]) => void;
          ack(...args);
        });
      });
      const ok = s.client();
      await connected(ok);
      assert.deepEqual(await ok.timeout(5000).emitWithAck("echo", 1, [[["three levels"]]]), 1);
      const many = s.client();
      await connected(many);
      const gone = waitFor<[string]>(many, "disconnect");
      many.emit("echo", 1, 2, 3, 4);
      await gone;
      const deep = s.client();
      await connected(deep);
      const goneToo = waitFor<[string]>(deep, "disconnect");
      deep.emit("echo", [[[[["five levels"]]]]]);
      await goneToo;
      await until(() => reasons.length === 2, "both sockets to be disconnected");
      assert.deepEqual(reasons, ["parse error", "parse error"]);
      assert.equal(ok.connected, true);
    } finally {
      await s.close();
    }
  });
});

describe("dynamic namespaces", () => {
  test("past maxDynamicNamespaces a CONNECT gets 'Namespace limit reached'; freed children make room", async () => {
    const s = await startIo({ maxDynamicNamespaces: 2, cleanupEmptyChildNamespaces: true });
    try {
      s.io.of(/^\/room-\d+$/);
      const a = s.client("/room-1");
      const b = s.client("/room-2");
      await Promise.all([connected(a), connected(b)]);
      const c = s.client("/room-3");
      const [err] = await waitFor<[Error]>(c, "connect_error");
      assert.equal(err.message, "Namespace limit reached");
      assert.equal(s.io.namespaces.has("/room-3"), false);
      // an existing child still takes new sockets
      await connected(s.client("/room-1"));
      b.disconnect();
      await until(() => !s.io.namespaces.has("/room-2"), "the empty child to be cleaned up");
      await connected(s.client("/room-4"));
    } finally {
      await s.close();
    }
  });
});

describe("connections per address", () => {
  test("a handshake past maxConnectionsPerIp gets 429 TOO_MANY_CONNECTIONS, over polling and WebSocket", async () => {
    const s = await startIo({ maxConnectionsPerIp: 2, handshakeRate: false });
    try {
      const a = s.client();
      const b = s.client("/", {}, "polling");
      await Promise.all([connected(a), connected(b)]);
      const refused = await get(handshakeUrl(s.port));
      assert.equal(refused.status, 429);
      assert.deepEqual(JSON.parse(refused.body), { code: 3, message: "Too many connections" });
      assert.equal(await wsHandshake(handshakeUrl(s.port, "websocket")), 429);
      const c = s.client();
      const [err] = await waitFor<[Error]>(c, "connect_error");
      assert.match(err.message, /websocket error|xhr poll error/);
      // requests of open sessions are not counted: b keeps polling
      assert.equal(
        await b
          .timeout(5000)
          .emitWithAck("ping")
          .catch(() => "no handler"),
        "no handler",
      );
      a.disconnect();
      await until(() => s.io.engine.clientsCount === 1, "a's session to close");
      await connected(s.client());
    } finally {
      await s.close();
    }
  });

  test("clientAddress decides the address: each forwarded address has its own count", async () => {
    const s = await startIo({
      maxConnectionsPerIp: 1,
      handshakeRate: false,
      clientAddress: (req) => String(req.headers["x-forwarded-for"] ?? req.socket.remoteAddress),
    });
    try {
      const first = await get(handshakeUrl(s.port), { "x-forwarded-for": "10.0.0.1" });
      assert.equal(first.status, 200);
      assert.equal((await get(handshakeUrl(s.port), { "x-forwarded-for": "10.0.0.1" })).status, 429);
      assert.equal((await get(handshakeUrl(s.port), { "x-forwarded-for": "10.0.0.2" })).status, 200);
    } finally {
      await s.close();
    }
  });
});

describe("handshake rate", () => {
  test("past the burst, handshakes get 429 HANDSHAKE_RATE_LIMITED until the bucket refills", async () => {
    const s = await startIo({ handshakeRate: { burst: 3, perSecond: 0.001 } });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await get(handshakeUrl(s.port))).status, 200);
      const refused = await get(handshakeUrl(s.port));
      assert.equal(refused.status, 429);
      assert.deepEqual(JSON.parse(refused.body), { code: 3, message: "Too many handshakes" });
      assert.equal(await wsHandshake(handshakeUrl(s.port, "websocket")), 429);
      const errors: unknown[] = [];
      s.io.engine.on("connection_error", (e) => errors.push(e));
      await get(handshakeUrl(s.port));
      assert.equal((errors[0] as { message: string }).message, "Too many handshakes");
    } finally {
      await s.close();
    }
  });

  test("a refilled bucket lets handshakes through again", async () => {
    const s = await startIo({ handshakeRate: { burst: 1, perSecond: 20 } });
    try {
      assert.equal((await get(handshakeUrl(s.port))).status, 200);
      let status = 429;
      const deadline = Date.now() + 5000;
      while (status === 429 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 60));
        status = (await get(handshakeUrl(s.port))).status;
      }
      assert.equal(status, 200);
    } finally {
      await s.close();
    }
  });
});

describe("allowed origins", () => {
  test("a listed origin connects; another gets 403 ORIGIN_NOT_ALLOWED on handshakes, polls and upgrades", async () => {
    const s = await startIo({ allowedOrigins: ["https://app.example"] });
    try {
      const ok = await get(handshakeUrl(s.port), { origin: "https://app.example" });
      assert.equal(ok.status, 200);
      const sid = (JSON.parse(ok.body.slice(1)) as { sid: string }).sid;
      const evil = await get(handshakeUrl(s.port), { origin: "https://evil.example" });
      assert.equal(evil.status, 403);
      assert.deepEqual(JSON.parse(evil.body), { code: 3, message: "Origin not allowed" });
      // a request of an open session from another origin is refused too
      const poll = await get(`${handshakeUrl(s.port)}&sid=${sid}`, { origin: "https://evil.example" });
      assert.equal(poll.status, 403);
      assert.equal(await wsHandshake(handshakeUrl(s.port, "websocket"), { origin: "https://evil.example" }), 403);
      assert.equal(await wsHandshake(handshakeUrl(s.port, "websocket"), { origin: "https://app.example" }), "open");
      // no Origin header: not a browser, let through
      assert.equal((await get(handshakeUrl(s.port))).status, 200);
      await connected(s.client("/", { extraHeaders: { origin: "https://app.example" } }, "polling"));
    } finally {
      await s.close();
    }
  });

  test("a function decides; one that throws refuses", async () => {
    const s = await startIo({
      allowedOrigins: (origin) => {
        if (origin === "https://boom.example") throw new Error("boom");
        return origin.endsWith(".trusted.example");
      },
    });
    try {
      assert.equal((await get(handshakeUrl(s.port), { origin: "https://a.trusted.example" })).status, 200);
      assert.equal((await get(handshakeUrl(s.port), { origin: "https://other.example" })).status, 403);
      assert.equal((await get(handshakeUrl(s.port), { origin: "https://boom.example" })).status, 403);
    } finally {
      await s.close();
    }
  });
});

/** A Socket.IO client over a raw WebSocket whose TCP socket can be paused: it stops reading. */
async function stallableClient(port: number): Promise<{ ws: WebSocket; tcp: NetSocket }> {
  let tcp: NetSocket | undefined;
  const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`, {
    createConnection: (opts: object) => {
      tcp = netConnect(opts as { port: number; host: string });
      return tcp;
    },
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("message", () => resolve()); // the open packet
    ws.once("error", reject);
  });
  ws.send("40");
  await new Promise<void>((resolve) => {
    ws.on("message", (data) => {
      if (String(data).startsWith("40")) resolve();
    });
  });
  return { ws, tcp: tcp as NetSocket };
}

describe("slow consumers", () => {
  test("a client that stops reading: volatile packets dropped first, then 'slow consumer'; others unaffected", async (t) => {
    const limit = 256 * 1024;
    const s = await startIo({ maxBufferedBytes: limit });
    try {
      const sockets: Socket[] = [];
      s.io.on("connection", (socket) => {
        sockets.push(socket);
        socket.on("echo", (v: unknown, ack: (v: unknown) => void) => ack(v));
      });
      const healthy = s.client();
      await connected(healthy);
      const slow = await stallableClient(s.port);
      await until(() => sockets.length === 2, "both sockets");
      const slowSocket = sockets.find((x) => x.id !== healthy.id) as Socket;
      const disconnected = waitFor<[string]>(slowSocket, "disconnect", 30_000);
      slow.tcp.pause();

      const chunk = "x".repeat(16 * 1024);
      let peak = 0;
      let volatileWhileBacklogged = 0;
      let volatileDropped = 0;
      const latencies: number[] = [];
      // Feed the slow client until the server cuts it off; keep the healthy one busy meanwhile.
      while (slowSocket.connected) {
        const before = slowSocket.conn.bufferedBytes;
        if (before > 0) {
          volatileWhileBacklogged++;
          slowSocket.volatile.emit("tick", chunk);
          if (slowSocket.conn.bufferedBytes === before) volatileDropped++;
        }
        slowSocket.emit("data", chunk);
        peak = Math.max(peak, slowSocket.conn.bufferedBytes);
        const started = performance.now();
        assert.equal(await healthy.timeout(10_000).emitWithAck("echo", "hi"), "hi");
        latencies.push(performance.now() - started);
      }
      const [reason] = await disconnected;
      assert.equal(reason, "slow consumer");
      assert.ok(volatileWhileBacklogged > 0, "volatile packets were offered while backlogged");
      assert.equal(
        volatileDropped,
        volatileWhileBacklogged,
        "every volatile packet offered while backlogged was dropped",
      );
      // the server never held more than the limit plus one packet for it
      assert.ok(peak <= limit + chunk.length + 64, `peak backlog ${peak} within the limit`);
      // the healthy client kept its round trips through the whole episode, and still has them
      assert.equal(await healthy.timeout(10_000).emitWithAck("echo", "after"), "after");
      latencies.sort((a, b) => a - b);
      t.diagnostic(
        `healthy client's round trips during the flood: ${latencies.length}, median ${latencies[latencies.length >> 1]?.toFixed(2)} ms, max ${latencies.at(-1)?.toFixed(2)} ms; slow client's peak backlog ${peak} bytes`,
      );
      slow.tcp.destroy();
    } finally {
      await s.close();
    }
  });
});
