// Runtime drop-in: what socket.io apps and the packages around them (the admin UI, ...) read
// from the server objects, checked with the official client over each transport.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Adapter as SioAdapter } from "socket.io-adapter";
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
  }
});
