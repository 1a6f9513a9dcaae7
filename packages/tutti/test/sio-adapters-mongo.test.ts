// @socket.io/mongo-adapter on two Tutti servers. No MongoDB server runs here (Debian ships none),
// so the adapter is given an in-process stand-in for its collection: insertOne stores each
// document through the mongodb driver's own BSON serializer and a watch() stream delivers the
// inserts in order, with the `$match` the adapter asks for. What this checks is Tutti's side:
// that the adapter's broadcasts, requests and answers work against Tutti's objects. MongoDB's
// own behaviour (change streams, capped collections, resume tokens) is not tested here.
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { after, before, describe, test } from "node:test";
import { createAdapter } from "@socket.io/mongo-adapter";
import { BSON, ObjectId } from "mongodb";
import type { Socket as ClientSocket } from "socket.io-client";
import { countEvents, type Nodes, startNodes, until } from "./sio-adapters-helpers.js";
import { waitFor } from "./sio-helpers.js";

/** The one pipeline the adapter watches with: documents of other nodes. */
interface MatchStage {
  $match: { "fullDocument.uid": { $ne: string } };
}

class StandInChangeStream extends EventEmitter {
  readonly #ignoreUid: string;
  closed = false;
  resumeToken: unknown = undefined;

  constructor(pipeline: readonly MatchStage[]) {
    super();
    const stage = pipeline[0];
    assert.equal(pipeline.length, 1, "the stand-in knows one pipeline shape");
    assert.ok(stage !== undefined && typeof stage.$match["fullDocument.uid"].$ne === "string");
    this.#ignoreUid = stage.$match["fullDocument.uid"].$ne;
  }

  deliver(stored: Uint8Array, _id: ObjectId): void {
    if (this.closed) return;
    // each watcher reads its own copy, as each gets its own from the server
    const fullDocument = BSON.deserialize(stored) as { uid?: string };
    if (fullDocument.uid === this.#ignoreUid) return;
    this.resumeToken = { _data: _id.toHexString() };
    this.emit("change", { operationType: "insert", fullDocument });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.emit("close");
  }
}

/** A collection as the adapter uses it: insertOne and watch. */
class StandInCollection {
  readonly #streams = new Set<StandInChangeStream>();
  inserted = 0;

  insertOne(document: Record<string, unknown>): Promise<{ insertedId: ObjectId }> {
    const _id = new ObjectId();
    const stored = BSON.serialize({ ...document, _id });
    this.inserted++;
    // a change event comes after the insert is acknowledged, in insert order
    setImmediate(() => {
      for (const stream of this.#streams) stream.deliver(stored, _id);
    });
    return Promise.resolve({ insertedId: _id });
  }

  watch(pipeline: readonly MatchStage[]): StandInChangeStream {
    const stream = new StandInChangeStream(pipeline);
    this.#streams.add(stream);
    stream.once("close", () => this.#streams.delete(stream));
    return stream;
  }
}

describe("@socket.io/mongo-adapter across two Tutti servers, over a stand-in collection", () => {
  const collection = new StandInCollection();
  let cluster: Nodes;
  const clients: ClientSocket[] = [];
  const client = async (index: number, rooms: readonly string[] = []): Promise<ClientSocket> => {
    const socket = await cluster.client(index, rooms);
    clients.push(socket);
    return socket;
  };
  const io = (index: number) => (cluster.nodes[index] as Nodes["nodes"][number]).io;

  before(async () => {
    cluster = await startNodes(2, () =>
      createAdapter(collection as never, { heartbeatInterval: 200, heartbeatTimeout: 10_000 }),
    );
    for (const i of [0, 1]) {
      await until(async () => (await io(i).of("/").adapter.serverCount()) === 2, `node ${i} sees 2 servers`);
    }
  });

  after(async () => {
    for (const socket of clients) socket.disconnect();
    await cluster?.close();
  });

  test("a broadcast to a room reaches its members on both nodes, binary included, and no one else", async () => {
    const members = [await client(0, ["r"]), await client(1, ["r"])];
    const outsider = await client(1);
    const strays = countEvents([outsider], "news");
    const got = members.map((m) => waitFor<[string, { bytes: Buffer }]>(m, "news"));
    const before = collection.inserted;
    io(0)
      .to("r")
      .emit("news", "hi", { bytes: Buffer.from([9, 8]) });
    for (const [text, { bytes }] of await Promise.all(got)) {
      assert.equal(text, "hi");
      assert.deepEqual([...bytes], [9, 8]);
    }
    // it went through the collection
    assert.ok(collection.inserted > before);
    const marker = waitFor(outsider, "marker");
    io(0).emit("marker");
    await marker;
    assert.deepEqual(strays, [0]);
  });

  test("fetchSockets, serverSideEmitWithAck, a broadcast with acks and disconnectSockets reach the other node", async () => {
    const a = await client(0, ["f"]);
    const b = await client(1, ["f"]);
    const sockets = await io(0).in("f").fetchSockets();
    assert.deepEqual(sockets.map((s) => s.id).sort(), [a.id, b.id].sort());
    const remote = sockets.find((s) => s.id === b.id);
    assert.ok(remote?.rooms instanceof Set && remote.rooms.has("f"));

    io(1).on("double", (n: number, ack: (answer: number) => void) => ack(n * 2));
    assert.deepEqual(await io(0).serverSideEmitWithAck("double", 4), [8]);

    a.on("q", (ack: (answer: string) => void) => ack("a"));
    b.on("q", (ack: (answer: string) => void) => ack("b"));
    const answers = (await io(0).to("f").timeout(5000).emitWithAck("q")) as string[];
    assert.deepEqual(answers.sort(), ["a", "b"]);

    const gone = waitFor<[string]>(b, "disconnect");
    io(0)
      .in("f")
      .except(a.id as string)
      .disconnectSockets();
    assert.equal((await gone)[0], "io server disconnect");
    assert.equal(a.connected, true);
  });
});
