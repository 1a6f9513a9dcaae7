// Runtime drop-in: what socket.io apps and the packages around them (the admin UI, ...) read
// from the server objects, checked with the official client over each transport.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type ClusterMessage,
  type ClusterResponse,
  Adapter as SioAdapter,
  ClusterAdapter as SioClusterAdapter,
} from "socket.io-adapter";
import type { AdapterConstructor, Socket } from "../src/index.js";
import { connected, startIo, TRANSPORT_MODES, waitFor } from "./sio-helpers.js";

describe("socket.client as socket.io's", () => {
  for (const mode of TRANSPORT_MODES) {
    test(`socket.client.id is the Engine.IO session id, as @socket.io/admin-ui reads it (${mode})`, async () => {
      const r = await startIo({}, mode);
      try {
        const serverSide = waitFor<[Socket]>(r.io, "connection");
        const client = r.client("/");
        await connected(client);
        const [socket] = await serverSide;
        assert.equal(typeof socket.client.id, "string");
        assert.equal(socket.client.id, socket.conn.id);
        // the admin UI shortens it: it must not be the empty string
        assert.ok(socket.client.id.length > 0);
      } finally {
        await r.close();
      }
    });
  }
});

// @socket.io/redis-adapter, cluster-adapter and the like extend socket.io-adapter's Adapter,
// which delivers through socket.io's internals: its in-memory class exercises the same calls.
describe("an adapter built on socket.io-adapter", () => {
  for (const mode of TRANSPORT_MODES) {
    test(`io.to(room).emit reaches the room through client.writeToEngine, onAnyOutgoing sees it (${mode})`, async () => {
      const r = await startIo({ adapter: SioAdapter as unknown as AdapterConstructor }, mode);
      try {
        const outgoing: unknown[] = [];
        r.io.on("connection", (socket) => {
          socket.onAnyOutgoing((...args) => outgoing.push(args));
          socket.on("join", (room: string, ack: () => void) => {
            socket.join(room);
            ack();
          });
        });
        const inRoom = r.client("/");
        const outside = r.client("/");
        await Promise.all([connected(inRoom), connected(outside)]);
        await inRoom.emitWithAck("join", "lobby");
        let strays = 0;
        outside.on("news", () => strays++);
        const got = waitFor<unknown[]>(inRoom, "news");
        r.io.to("lobby").emit("news", { n: 1 }, Buffer.from([7, 8]));
        const [data, bytes] = await got;
        assert.deepEqual(data, { n: 1 });
        assert.deepEqual([...(bytes as Buffer)], [7, 8]);
        // the outside client is still connected and got nothing: a round trip after the broadcast
        r.io.emit("all");
        await waitFor(outside, "all");
        assert.equal(strays, 0);
        assert.deepEqual(outgoing[0], ["news", { n: 1 }, Buffer.from([7, 8])]);
      } finally {
        await r.close();
      }
    });

    test(`io.timeout().emitWithAck collects every client's answer through socket.acks and nsp._ids (${mode})`, async () => {
      const r = await startIo({ adapter: SioAdapter as unknown as AdapterConstructor }, mode);
      try {
        const a = r.client("/");
        const b = r.client("/");
        await Promise.all([connected(a), connected(b)]);
        a.on("q", (n: number, ack: (v: string) => void) => ack(`a${n}`));
        b.on("q", (n: number, ack: (v: string) => void) => ack(`b${n}`));
        const first = (await r.io.timeout(5000).emitWithAck("q", 1)) as string[];
        const second = (await r.io.timeout(5000).emitWithAck("q", 2)) as string[];
        assert.deepEqual(first.sort(), ["a1", "b1"]);
        assert.deepEqual(second.sort(), ["a2", "b2"]);
        // the table holds nothing once every answer is in
        assert.equal(r.io.ackTable.size, 0);
      } finally {
        await r.close();
      }
    });
  }
});

test("a factory function as the adapter, as @socket.io/redis-adapter's createAdapter returns one", async () => {
  // biome-ignore lint/complexity/useArrowFunction: the server calls it with new, as socket.io does
  const factory = function (nsp: SioAdapter["nsp"]) {
    return new SioAdapter(nsp);
  };
  const r = await startIo({ adapter: factory });
  try {
    assert.ok(r.io.of("/").adapter instanceof SioAdapter);
    const client = r.client("/");
    await connected(client);
    const news = waitFor<[string]>(client, "news");
    r.io.emit("news", "hi");
    assert.deepEqual(await news, ["hi"]);
  } finally {
    await r.close();
  }
});

/**
 * socket.io-adapter's ClusterAdapter over an in-process bus, the shape @socket.io/redis-adapter's
 * sharded and streams adapters and the cluster adapter take: messages between nodes, local
 * delivery left to the base class.
 */
function loopbackCluster(): AdapterConstructor {
  const members = new Set<BusNode>();
  class BusNode extends SioClusterAdapter {
    constructor(nsp: SioAdapter["nsp"]) {
      super(nsp);
      members.add(this);
    }
    protected override doPublish(message: ClusterMessage): Promise<string> {
      for (const m of members) if (m !== this && m.nsp.name === this.nsp.name) setImmediate(() => m.onMessage(message));
      return Promise.resolve("");
    }
    protected override doPublishResponse(requesterUid: string, response: ClusterResponse): Promise<void> {
      for (const m of members) if (m.uid === requesterUid) setImmediate(() => m.onResponse(response));
      return Promise.resolve();
    }
  }
  return BusNode as unknown as AdapterConstructor;
}

describe("a cluster adapter built on socket.io-adapter", () => {
  test("a broadcast and a serverSideEmit reach the other node (nsp._onServerSideEmit)", async () => {
    const adapter = loopbackCluster();
    const one = await startIo({ adapter });
    const two = await startIo({ adapter });
    try {
      const client = two.client("/");
      await connected(client);
      const news = waitFor<[string]>(client, "news");
      one.io.emit("news", "from one");
      assert.deepEqual(await news, ["from one"]);
      const heard = waitFor<[number, string]>(two.io, "sync");
      one.io.serverSideEmit("sync", 7, "x");
      assert.deepEqual(await heard, [7, "x"]);
    } finally {
      await one.close();
      await two.close();
    }
  });
});
