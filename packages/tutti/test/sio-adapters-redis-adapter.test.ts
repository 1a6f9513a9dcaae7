// @socket.io/redis-adapter (8, on socket.io-adapter 2.5, ioredis clients) across two Tutti
// servers, on the real Redis at 127.0.0.1:6379 under a key prefix of its own.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { createAdapter } from "@socket.io/redis-adapter";
import { Redis } from "ioredis";
import type { Socket as ClientSocket } from "socket.io-client";
import { Socket } from "../src/index.js";
import { countEvents, type Nodes, skipUnless, startNodes, until } from "./sio-adapters-helpers.js";
import { waitFor } from "./sio-helpers.js";

async function ping(): Promise<boolean> {
  const probe = new Redis({ host: "127.0.0.1", port: 6379, lazyConnect: true, maxRetriesPerRequest: 0 });
  probe.on("error", () => {});
  try {
    await probe.connect();
    return (await probe.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

function isTuttiSocket(value: unknown): boolean {
  return value instanceof Socket;
}

const skip = skipUnless(await ping(), "Redis on 127.0.0.1:6379");
/** The adapter's channels; it stores no keys, and pub/sub channels vanish with their subscribers. */
const key = `tutti-test-${randomBytes(6).toString("hex")}`;

describe("@socket.io/redis-adapter across two Tutti servers", { skip }, () => {
  let cluster: Nodes;
  const redisClients: Redis[] = [];
  const clients: ClientSocket[] = [];
  const client = async (index: number, rooms: readonly string[] = []): Promise<ClientSocket> => {
    const socket = await cluster.client(index, rooms);
    clients.push(socket);
    return socket;
  };
  const io = (index: number) => (cluster.nodes[index] as Nodes["nodes"][number]).io;

  before(async () => {
    cluster = await startNodes(2, () => {
      const pubClient = new Redis({ host: "127.0.0.1", port: 6379 });
      const subClient = pubClient.duplicate();
      redisClients.push(pubClient, subClient);
      return createAdapter(pubClient, subClient, { key });
    });
    for (const i of [0, 1]) {
      await until(async () => (await io(i).of("/").adapter.serverCount()) === 2, `node ${i} sees 2 servers`);
    }
  });

  after(async () => {
    for (const socket of clients) socket.disconnect();
    await cluster?.close();
    for (const redis of redisClients) redis.disconnect();
  });

  test("a broadcast to a room reaches its members on both nodes, binary included, and no one else", async () => {
    const members = [await client(0, ["r"]), await client(1, ["r"])];
    const outsider = await client(1);
    const strays = countEvents([outsider], "news");
    const got = members.map((m) => waitFor<[string, Buffer]>(m, "news"));
    io(0)
      .to("r")
      .emit("news", "hi", Buffer.from([1, 2]));
    for (const [text, bytes] of await Promise.all(got)) {
      assert.equal(text, "hi");
      assert.deepEqual([...bytes], [1, 2]);
    }
    const marker = waitFor(outsider, "marker");
    io(0).emit("marker");
    await marker;
    assert.deepEqual(strays, [0]);
  });

  test("fetchSockets gives RemoteSockets for the other node; serverSideEmitWithAck and broadcast acks cross", async () => {
    const a = await client(0, ["f"]);
    const b = await client(1, ["f"]);
    const sockets = await io(0).in("f").fetchSockets();
    assert.deepEqual(sockets.map((s) => s.id).sort(), [a.id, b.id].sort());
    const remote = sockets.find((s) => s.id === b.id);
    assert.ok(remote !== undefined);
    assert.equal(isTuttiSocket(remote), false);
    assert.ok(remote.rooms instanceof Set && remote.rooms.has("f"));
    b.on("ask", (ack: (answer: string) => void) => ack("b"));
    assert.equal(await remote.timeout(5000).emitWithAck("ask"), "b");

    io(1).on("double", (n: number, ack: (answer: number) => void) => ack(n * 2));
    assert.deepEqual(await io(0).serverSideEmitWithAck("double", 5), [10]);

    a.on("q", (ack: (answer: string) => void) => ack("a"));
    b.on("q", (ack: (answer: string) => void) => ack("b"));
    const answers = (await io(0).to("f").timeout(5000).emitWithAck("q")) as string[];
    assert.deepEqual(answers.sort(), ["a", "b"]);
  });
});
