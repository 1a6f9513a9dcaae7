// The old socket.io-redis 6 (on socket.io-adapter 2.2, node-redis 3 clients) across two Tutti
// servers, on the real Redis at 127.0.0.1:6379 under a key prefix of its own.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import redis from "redis";
import type { Socket as ClientSocket } from "socket.io-client";
import { createAdapter } from "socket.io-redis";
import { TuttiError } from "../src/index.js";
import { countEvents, type Nodes, skipUnless, startNodes, until } from "./sio-adapters-helpers.js";
import { waitFor } from "./sio-helpers.js";

function ping(): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = redis.createClient({ host: "127.0.0.1", port: 6379, retry_strategy: () => undefined });
    probe.on("error", () => {
      probe.quit();
      resolve(false);
    });
    probe.ping((err) => {
      probe.quit();
      resolve(err === null);
    });
  });
}

const skip = skipUnless(await ping(), "Redis on 127.0.0.1:6379");
/** The adapter's channels; it stores no keys, and pub/sub channels vanish with their subscribers. */
const key = `tutti-test-${randomBytes(6).toString("hex")}`;

describe("socket.io-redis 6 across two Tutti servers", { skip }, () => {
  let cluster: Nodes;
  const redisClients: redis.RedisClient[] = [];
  const clients: ClientSocket[] = [];
  const client = async (index: number, rooms: readonly string[] = []): Promise<ClientSocket> => {
    const socket = await cluster.client(index, rooms);
    clients.push(socket);
    return socket;
  };
  const io = (index: number) => (cluster.nodes[index] as Nodes["nodes"][number]).io;

  before(async () => {
    cluster = await startNodes(2, () => {
      const pubClient = redis.createClient({ host: "127.0.0.1", port: 6379 });
      const subClient = pubClient.duplicate();
      redisClients.push(pubClient, subClient);
      return createAdapter({ key, pubClient, subClient });
    });
    // both nodes subscribed: each counts the other on the request channel
    const adapter = io(0).of("/").adapter as unknown as { getNumSub(): Promise<number> };
    await until(async () => (await adapter.getNumSub()) === 2, "both nodes subscribed");
  });

  after(async () => {
    for (const socket of clients) socket.disconnect();
    await cluster?.close();
    await Promise.all(redisClients.map((c) => new Promise((resolve) => c.quit(resolve))));
  });

  test("a broadcast to a room reaches its members on both nodes, binary included, and no one else", async () => {
    const members = [await client(0, ["r"]), await client(1, ["r"])];
    const outsider = await client(1);
    const strays = countEvents([outsider], "news");
    const got = members.map((m) => waitFor<[string, Buffer]>(m, "news"));
    io(0)
      .to("r")
      .emit("news", "hi", Buffer.from([1, 2, 3]));
    for (const [text, bytes] of await Promise.all(got)) {
      assert.equal(text, "hi");
      assert.deepEqual([...bytes], [1, 2, 3]);
    }
    const marker = waitFor(outsider, "marker");
    io(0).emit("marker");
    await marker;
    assert.deepEqual(strays, [0]);
  });

  test("except() and a broadcast from the other node", async () => {
    const a = await client(0, ["e"]);
    const b = await client(1, ["e", "muted"]);
    const counts = countEvents([a, b], "news");
    const got = waitFor(a, "news");
    io(1).to("e").except("muted").emit("news");
    await got;
    const marker = waitFor(b, "marker");
    io(1).emit("marker");
    await marker;
    assert.deepEqual(counts, [1, 0]);
  });

  test("fetchSockets, socketsJoin and disconnectSockets reach the other node", async () => {
    const here = await client(0, ["f"]);
    const there = await client(1, ["f"]);
    const sockets = await io(0).in("f").fetchSockets();
    assert.deepEqual(sockets.map((s) => s.id).sort(), [here.id, there.id].sort());
    const remote = sockets.find((s) => s.id === there.id);
    assert.ok(remote?.rooms instanceof Set && remote.rooms.has("f"));
    const direct = waitFor<[number]>(there, "direct");
    remote?.emit("direct", 7);
    assert.deepEqual(await direct, [7]);

    io(0).in("f").socketsJoin("f2");
    await until(async () => (await io(1).in("f2").fetchSockets()).length === 2, "both joined f2");
    const gone = waitFor<[string]>(there, "disconnect");
    io(0)
      .in("f2")
      .except(here.id as string)
      .disconnectSockets();
    assert.equal((await gone)[0], "io server disconnect");
    assert.equal(here.connected, true);
  });

  test("what socket.io-adapter 2.2 lacks fails with ADAPTER_NOT_SUPPORTED, not 'is not a function'", async () => {
    await client(1, ["acks"]);
    await assert.rejects(io(0).to("acks").timeout(1000).emitWithAck("q"), (err: unknown) => {
      assert.ok(err instanceof TuttiError);
      assert.equal(err.code, "ADAPTER_NOT_SUPPORTED");
      assert.match(err.message, /RedisAdapter cannot broadcast with an ack/);
      assert.match(err.message, /@socket\.io\/redis-adapter/);
      return true;
    });
    assert.throws(() => io(0).serverSideEmit("x"), { code: "ADAPTER_NOT_SUPPORTED" });
    await assert.rejects(io(0).serverSideEmitWithAck("x"), { code: "ADAPTER_NOT_SUPPORTED" });
  });
});
