/**
 * End to end on Redis: three servers behind a balancer that is not sticky, polling-only clients.
 * Sessions are found through the broker's registry (tag, relay address, shared secret) and
 * room broadcasts from any node reach every client in one order (each node's own order kept).
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { test } from "node:test";
import { Redis } from "ioredis";
import { io as connect } from "socket.io-client";
import { Server } from "tutti";
import { createAdapter } from "../src/index.js";
import { deleteKeys, eventually, missing, randomPrefix, roundRobin, sharedRedisUp } from "./helpers.js";

test("behind a round-robin balancer, polling clients on three nodes get every room broadcast, all in one order", async (t) => {
  if (!(await sharedRedisUp())) return missing(t, "Redis at 127.0.0.1:6379");
  const key = randomPrefix();
  const clients: Redis[] = [];
  const nodes: Server[] = [];
  const adapters: ReturnType<typeof createAdapter>[] = [];
  t.after(async () => {
    await Promise.all(nodes.map((io) => io.close()));
    const admin = new Redis({ host: "127.0.0.1", port: 6379 });
    await deleteKeys(admin, key);
    admin.disconnect();
    for (const client of clients) client.disconnect();
  });
  const ports: number[] = [];
  for (let i = 0; i < 3; i++) {
    const client = new Redis({ host: "127.0.0.1", port: 6379 });
    clients.push(client);
    const adapter = createAdapter(client, { key, heartbeatInterval: 200, heartbeatTimeout: 800 });
    adapters.push(adapter);
    const http = createServer();
    const io = new Server(http, { adapter });
    io.on("connection", (socket) => {
      socket.on("join", async (room: string, ack: () => void) => {
        await socket.join(room);
        ack();
      });
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const address = http.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    ports.push(address.port);
    nodes.push(io);
  }
  // every node knows the others with their relay addresses before clients arrive
  await eventually(() =>
    adapters.every(
      (adapter) =>
        adapter.broker.members().size === 3 &&
        [...adapter.broker.members().values()].every((node) => node.address !== undefined),
    ),
  );
  const proxy = await roundRobin(ports);
  t.after(() => proxy.close());
  const sockets = Array.from({ length: 6 }, () =>
    connect(proxy.url, { transports: ["polling"], forceNew: true, reconnection: false }),
  );
  t.after(() => {
    for (const socket of sockets) socket.disconnect();
  });
  const got: number[][] = sockets.map(() => []);
  await Promise.all(
    sockets.map(async (socket, i) => {
      socket.on("tick", (n: number) => got[i]?.push(n));
      await new Promise<void>((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("connect_error", reject);
      });
      await socket.timeout(5000).emitWithAck("join", "room");
    }),
  );
  const owners = new Set(sockets.map((socket) => socket.io.engine.id.slice(0, 6)));
  assert.ok(owners.size >= 2, "sessions live on more than one node");
  for (let n = 0; n < 30; n++) nodes[n % 3]?.to("room").emit("tick", n);
  await eventually(() => got.every((list) => list.length >= 30));
  // three publishers on three connections: Redis interleaves them, into one order for everyone,
  // keeping each node's own order
  const first = got[0] as number[];
  assert.deepEqual(
    [...first].sort((a, b) => a - b),
    [...Array(30).keys()],
  );
  for (const list of got) assert.deepEqual(list, first);
  for (let k = 0; k < 3; k++) {
    const mine = first.filter((n) => n % 3 === k);
    assert.deepEqual(
      mine,
      [...mine].sort((a, b) => a - b),
    );
  }
  assert.ok(
    nodes.some((io) => io.engine.relayStats.relayedRequests > 0),
    "some requests were relayed",
  );
});
