import assert from "node:assert/strict";
import { type Socket as NetSocket, connect as netConnect } from "node:net";
import { describe, test } from "node:test";
import type { Socket as ClientSocket } from "socket.io-client";
import { WebSocket } from "ws";
import type { Socket } from "../src/index.js";
import { until } from "./helpers.js";
import { connected, type RunningIo, startIo } from "./sio-helpers.js";

const ROOM = "room";
const BURST_PREFIX = '42["burst",';

/**
 * A light Socket.IO client over a raw WebSocket (main namespace, joins ROOM through its auth),
 * counting "burst" events and checking their indices arrive in order. Its TCP socket can be
 * paused: it then stops reading, as a stalled client does. The official client is too heavy
 * for a hundred of these in one test process.
 */
class RawMember {
  received = 0;
  outOfOrder = 0;
  closed = false;
  readonly ws: WebSocket;
  tcp: NetSocket | undefined;

  constructor(port: number) {
    this.ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`, {
      perMessageDeflate: false,
      createConnection: (opts: object) => {
        this.tcp = netConnect(opts as { port: number; host: string });
        return this.tcp;
      },
    });
    this.ws.on("close", () => {
      this.closed = true;
    });
  }

  /** Resolves once the Socket.IO CONNECT is answered. */
  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.ws.once("error", reject);
      this.ws.on("message", (data: Buffer) => {
        const text = data.toString("latin1", 0, Math.min(data.length, 24));
        if (text.startsWith(BURST_PREFIX)) {
          const index = Number.parseInt(text.slice(BURST_PREFIX.length), 10);
          if (index !== this.received) this.outOfOrder++;
          this.received++;
        } else if (text[0] === "0") this.ws.send(`40${JSON.stringify({ room: true })}`);
        else if (text === "2") this.ws.send("3");
        else if (text.startsWith("40")) resolve();
      });
    });
  }
}

/** `count` broadcasts of `bytes` each to ROOM, in one synchronous go, as a busy upstream feed delivers them. */
function burst(s: RunningIo, count: number, bytes: number): void {
  const payload = "x".repeat(bytes);
  for (let i = 0; i < count; i++) s.io.to(ROOM).emit("burst", i, payload);
}

/** An official client in ROOM that records the indices of the "burst" events it gets, in order. */
function officialMember(s: RunningIo, mode: "websocket" | "polling"): { client: ClientSocket; indices: number[] } {
  const client = s.client("/", { auth: { room: true } }, mode);
  const indices: number[] = [];
  client.on("burst", (i: number) => indices.push(i));
  return { client, indices };
}

function serve(s: RunningIo): Map<string, Socket> {
  const sockets = new Map<string, Socket>();
  s.io.on("connection", (socket) => {
    sockets.set(socket.id, socket);
    if ((socket.handshake.auth as { room?: boolean }).room === true) void socket.join(ROOM);
    socket.on("echo", (v: unknown, ack: (v: unknown) => void) => ack(v));
  });
  return sockets;
}

const T = { timeout: 300_000 };

describe("a slow consumer during a burst (maxBufferedBytes at its default)", () => {
  test(
    "20,000 broadcasts of 1 KB in one go to a room of 100 with one stalled: it is cut ('slow consumer'), the 99 others get all 20,000 in order",
    T,
    async () => {
      const COUNT = 20_000;
      const s = await startIo({ pingInterval: 120_000, pingTimeout: 120_000 });
      try {
        const sockets = serve(s);
        // 97 light members, the official client over WebSocket and over polling, one stalled member
        const raws = Array.from({ length: 97 }, () => new RawMember(s.port));
        const ws = officialMember(s, "websocket");
        const polling = officialMember(s, "polling");
        const stalled = new RawMember(s.port);
        // and a client outside the room, which must not notice any of it
        const outsider = s.client();
        await Promise.all([
          ...raws.map((r) => r.connect()),
          stalled.connect(),
          connected(ws.client),
          connected(polling.client),
          connected(outsider),
        ]);
        await until(() => sockets.size === 101, "every socket on the server");
        assert.equal(s.io.of("/").adapter.rooms.get(ROOM)?.size, 100);
        (stalled.tcp as NetSocket).pause();

        burst(s, COUNT, 1024);

        const healthy = (): boolean =>
          raws.every((r) => r.received === COUNT) && ws.indices.length === COUNT && polling.indices.length === COUNT;
        await until(healthy, "every healthy member to get the whole burst", 240_000);
        for (const r of raws) assert.equal(r.outOfOrder, 0);
        const inOrder = Array.from({ length: COUNT }, (_, i) => i);
        assert.deepEqual(ws.indices, inOrder);
        assert.deepEqual(polling.indices, inOrder);

        // The stalled member still holds far more than the limit unread: the next packet for it
        // (here a broadcast; otherwise at the latest its next ping) closes its session.
        const disconnects = new Map<string, string>();
        for (const socket of sockets.values()) socket.on("disconnect", (reason) => disconnects.set(socket.id, reason));
        s.io.to(ROOM).emit("burst", COUNT, "tail");
        await until(() => disconnects.size > 0, "the stalled member to be cut");
        assert.deepEqual([...disconnects.values()], ["slow consumer"]);
        await until(
          () => raws.every((r) => r.received === COUNT + 1) && ws.indices.length === COUNT + 1,
          "the healthy members to get the tail",
        );
        assert.equal(polling.client.connected && ws.client.connected && outsider.connected, true);
        assert.equal(await outsider.timeout(10_000).emitWithAck("echo", "still here"), "still here");
        assert.equal(
          raws.every((r) => !r.closed),
          true,
        );
        assert.equal(s.io.of("/").adapter.rooms.get(ROOM)?.size, 99);
        stalled.tcp?.destroy();
      } finally {
        await s.close();
      }
    },
  );

  test(
    "with per-message deflate, a burst larger than a batch reaches the official client whole and in order",
    T,
    async () => {
      const COUNT = 2_000;
      const s = await startIo({ perMessageDeflate: { threshold: 0 } });
      try {
        serve(s);
        const member = officialMember(s, "websocket");
        await connected(member.client);
        burst(s, COUNT, 1024);
        await until(() => member.indices.length === COUNT, "the whole burst", 60_000);
        assert.deepEqual(
          member.indices,
          Array.from({ length: COUNT }, (_, i) => i),
        );
        assert.equal(member.client.connected, true);
      } finally {
        await s.close();
      }
    },
  );

  test(
    "the default limit: a stalled client is never cut within a 1 MiB replay plus 3 MiB of live traffic; it is cut later",
    T,
    async () => {
      const s = await startIo({ pingInterval: 120_000, pingTimeout: 120_000 });
      try {
        const sockets = serve(s);
        const stalled = new RawMember(s.port);
        await stalled.connect();
        await until(() => sockets.size === 1, "the socket on the server");
        const socket = [...sockets.values()][0] as Socket;
        let reason: string | undefined;
        socket.on("disconnect", (r) => {
          reason = r;
        });
        (stalled.tcp as NetSocket).pause();
        const MiB = 1024 * 1024;
        // a recovery replay: 1 MiB queued in one go
        burst(s, 1024, 1024);
        let sent = MiB;
        // then live traffic, 16 KiB a turn, until the server gives up on the client
        const live = "y".repeat(16 * 1024);
        let peak = 0;
        while (reason === undefined && sent < 256 * MiB) {
          await new Promise((resolve) => setImmediate(resolve));
          socket.emit("live", live);
          sent += live.length;
          if (reason === undefined) peak = Math.max(peak, socket.conn.bufferedBytes);
        }
        assert.equal(reason, "slow consumer");
        // the server held up to the 4 MiB default for it (replay and live traffic), never more
        assert.ok(peak > 4 * MiB - 2 * live.length, `peak backlog ${peak}`);
        assert.ok(peak <= 4 * MiB, `peak backlog ${peak}`);
        stalled.tcp?.destroy();
      } finally {
        await s.close();
      }
    },
  );
});
