// @socket.io/postgres-adapter (socket.io-adapter's ClusterAdapterWithHeartbeat over LISTEN/NOTIFY)
// on three Tutti servers in this process, on the real PostgreSQL, with the official client.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { createAdapter } from "@socket.io/postgres-adapter";
import pg from "pg";
import type { Socket as ClientSocket } from "socket.io-client";
import { Socket } from "../src/index.js";
import { countEvents, type Nodes, skipUnless, startNodes, until } from "./sio-adapters-helpers.js";
import { waitFor } from "./sio-helpers.js";

const pool = new pg.Pool({ host: "127.0.0.1", port: 5432, user: "postgres", database: "test", max: 10 });
const reachable = await pool.query("SELECT 1").then(
  () => true,
  () => false,
);
const skip = skipUnless(reachable, "PostgreSQL on 127.0.0.1:5432 (user postgres, database test)");
if (skip !== false) await pool.end();

function isTuttiSocket(value: unknown): boolean {
  return value instanceof Socket;
}

const suffix = randomBytes(6).toString("hex");
/** The adapter's table for payloads too big or binary for NOTIFY, created here and dropped after. */
const table = `tutti_sio_attachments_${suffix}`;

describe("@socket.io/postgres-adapter across three Tutti servers", { skip }, () => {
  let cluster: Nodes;
  const clients: ClientSocket[] = [];
  const client = async (index: number, rooms: readonly string[] = []): Promise<ClientSocket> => {
    const socket = await cluster.client(index, rooms);
    clients.push(socket);
    return socket;
  };
  const io = (index: number) => (cluster.nodes[index] as Nodes["nodes"][number]).io;

  before(async () => {
    await pool.query(
      `CREATE TABLE ${table} (id bigserial UNIQUE, created_at timestamptz DEFAULT NOW(), payload bytea)`,
    );
    cluster = await startNodes(3, () =>
      createAdapter(pool, {
        tableName: table,
        channelPrefix: `tutti_${suffix}`,
        heartbeatInterval: 200,
        heartbeatTimeout: 10_000,
      }),
    );
    // each node has heard from the two others, so each one's LISTEN is in place
    for (let i = 0; i < 3; i++) {
      await until(async () => (await io(i).of("/").adapter.serverCount()) === 3, `node ${i} sees 3 servers`);
    }
  });

  after(async () => {
    for (const socket of clients) socket.disconnect();
    await cluster?.close();
    await pool.query(`DROP TABLE IF EXISTS ${table}`);
    await pool.end();
  });

  test("a broadcast to a room reaches its members on every node and no one else", async () => {
    const members = [await client(0, ["r1"]), await client(1, ["r1"]), await client(2, ["r1"])];
    const outsiders = [await client(1), await client(2)];
    const strays = countEvents(outsiders, "news");
    const got = members.map((m) => waitFor<[unknown]>(m, "news"));
    io(0).to("r1").emit("news", { from: 0 });
    assert.deepEqual(await Promise.all(got), [[{ from: 0 }], [{ from: 0 }], [{ from: 0 }]]);
    // each outsider shares a node with a member that got it: a later event shows nothing came before
    const markers = outsiders.map((o) => waitFor(o, "marker"));
    io(0).emit("marker");
    await Promise.all(markers);
    assert.deepEqual(strays, [0, 0]);
  });

  test("except() skips a room's members on every node; socket.broadcast skips the sender", async () => {
    const x0 = await client(0, ["r2", "vip"]);
    const x1 = await client(1, ["r2"]);
    const x2 = await client(2, ["r2", "vip"]);
    const counts = countEvents([x0, x1, x2], "news");
    const got = waitFor<[string]>(x1, "news");
    io(0).to("r2").except("vip").emit("news", "not for vips");
    assert.deepEqual(await got, ["not for vips"]);
    const markers = [x0, x2].map((x) => waitFor(x, "marker"));
    io(0).to("r2").emit("marker");
    await Promise.all(markers);
    assert.deepEqual(counts, [0, 1, 0]);

    // the sender's own socket, on node 1, broadcasts: the others hear it, the sender does not
    const [serverSide] = (await io(1)
      .in(x1.id as string)
      .fetchSockets()) as unknown as Socket[];
    assert.ok(serverSide instanceof Socket);
    const heard = countEvents([x0, x1, x2], "heard");
    const both = [x0, x2].map((x) => waitFor<[string]>(x, "heard"));
    serverSide.broadcast.emit("heard", "from x1");
    assert.deepEqual(await Promise.all(both), [["from x1"], ["from x1"]]);
    const marker = waitFor(x1, "marker2");
    io(0).emit("marker2");
    await marker;
    assert.deepEqual(heard, [1, 0, 1]);
  });

  test("binary payloads and payloads past NOTIFY's size cross nodes intact", async () => {
    const receiver = await client(2, ["bin"]);
    const blob = waitFor<[Buffer, { nested: { bytes: Buffer; n: number } }]>(receiver, "blob");
    io(0)
      .to("bin")
      .emit("blob", Buffer.from([0, 1, 255]), { nested: { bytes: Buffer.alloc(10_000, 7), n: 1 } });
    const [small, { nested }] = await blob;
    assert.deepEqual([...small], [0, 1, 255]);
    assert.equal(nested.n, 1);
    assert.equal(nested.bytes.length, 10_000);
    assert.ok(nested.bytes.every((b) => b === 7));

    const text = waitFor<[string]>(receiver, "text");
    const long = "é".repeat(9000);
    io(1).to("bin").emit("text", long);
    assert.equal((await text)[0], long);
  });

  test("fetchSockets() returns every node's sockets: this node's as they are, the others' as RemoteSockets", async () => {
    const c0 = await client(0, ["f"]);
    const c1 = await client(1, ["f"]);
    const c2 = await client(2, ["f", "g"]);
    await c1.emitWithAck("set", "name", "c1");
    const sockets = await io(0).in("f").fetchSockets();
    const byId = new Map(sockets.map((s) => [s.id, s]));
    assert.deepEqual([...byId.keys()].sort(), [c0.id, c1.id, c2.id].sort());
    const local = byId.get(c0.id as string);
    const remote1 = byId.get(c1.id as string);
    const remote2 = byId.get(c2.id as string);
    assert.ok(local instanceof Socket);
    assert.ok(remote1 !== undefined && remote2 !== undefined);
    // RemoteSocket's type is Socket's; the other nodes' entries are socket.io's RemoteSocket
    assert.equal(isTuttiSocket(remote1), false);
    assert.equal(isTuttiSocket(remote2), false);
    assert.deepEqual(remote1.data, { name: "c1" });
    assert.ok(remote2.rooms instanceof Set);
    assert.deepEqual([...remote2.rooms].sort(), [c2.id, "f", "g"].sort());
    assert.equal(remote1.handshake.address, "127.0.0.1");
    assert.equal(remote1.handshake.query.EIO, "4");

    // a RemoteSocket's emit reaches its client; with an ack, its one answer
    const direct = waitFor<[number]>(c1, "direct");
    remote1.emit("direct", 1);
    assert.deepEqual(await direct, [1]);
    c2.on("ask", (ack: (answer: string) => void) => ack("yes"));
    assert.equal(await remote2.timeout(5000).emitWithAck("ask"), "yes");

    // join, leave and disconnect act on the other node
    remote2.join("joined");
    await until(async () => (await io(1).in("joined").fetchSockets()).length === 1, "the remote socket joined");
    remote2.leave("joined");
    await until(async () => (await io(1).in("joined").fetchSockets()).length === 0, "the remote socket left");
    const gone = waitFor<[string]>(c1, "disconnect");
    remote1.disconnect();
    assert.equal((await gone)[0], "io server disconnect");
  });

  test("serverSideEmit reaches the other nodes; with an ack, each one's answer", async () => {
    const notes: Array<[number, unknown[]]> = [];
    for (const i of [1, 2]) {
      io(i).on("note", (...args: unknown[]) => notes.push([i, args]));
      io(i).on("add", (n: number, ack: (sum: number) => void) => ack(n + i));
    }
    io(0).serverSideEmit("note", "a", 2);
    await until(() => notes.length === 2, "both nodes got the note");
    assert.deepEqual(
      notes.sort((a, b) => a[0] - b[0]),
      [
        [1, ["a", 2]],
        [2, ["a", 2]],
      ],
    );
    const sums = (await io(0).serverSideEmitWithAck("add", 10)) as number[];
    assert.deepEqual(sums.sort(), [11, 12]);
  });

  test("socketsJoin and socketsLeave act on the matching sockets of every node", async () => {
    const s0 = await client(0);
    const s1 = await client(1, ["sj"]);
    const s2 = await client(2, ["sj"]);
    io(0).in("sj").socketsJoin(["sj2", "sj3"]);
    await until(async () => (await io(0).in("sj2").fetchSockets()).length === 2, "both joined sj2");
    const counts = countEvents([s0, s1, s2], "hey");
    const both = [s1, s2].map((s) => waitFor(s, "hey"));
    io(0).to("sj3").emit("hey");
    await Promise.all(both);
    const marker = waitFor(s0, "marker");
    io(0).emit("marker");
    await marker;
    assert.deepEqual(counts, [0, 1, 1]);
    io(2).in("sj").socketsLeave("sj2");
    await until(async () => (await io(0).in("sj2").fetchSockets()).length === 0, "both left sj2");
    assert.equal((await io(0).in("sj3").fetchSockets()).length, 2);
  });

  test("disconnectSockets disconnects the matching sockets of every node, with close too", async () => {
    const keep = await client(0);
    const d1 = await client(1, ["dc"]);
    const d2 = await client(2, ["dc"]);
    // as socket.io: the socket is told first ("io server disconnect"), then its connection closes
    const closed = waitFor<[string]>(d2, "disconnect");
    const sessions = io(2).engine.clientsCount;
    io(0)
      .in(d2.id as string)
      .disconnectSockets(true);
    assert.equal((await closed)[0], "io server disconnect");
    await until(() => io(2).engine.clientsCount === sessions - 1, "node 2 closed the connection");
    const left = waitFor<[string]>(d1, "disconnect");
    io(0).in("dc").disconnectSockets();
    assert.equal((await left)[0], "io server disconnect");
    // the socket outside the room is still there
    const still = waitFor(keep, "still");
    io(1).emit("still");
    await still;
    assert.equal(keep.connected, true);
  });

  test("a broadcast with an ack collects the answers of every node's clients; timeout() gives the ones that came", async () => {
    const k = [await client(0, ["ack"]), await client(1, ["ack"]), await client(2, ["ack"])];
    k.forEach((c, i) => {
      c.on("q", (n: number, ack: (answer: string) => void) => ack(`${i}:${n}`));
    });
    const all = (await io(1).to("ack").timeout(5000).emitWithAck("q", 3)) as string[];
    assert.deepEqual(all.sort(), ["0:3", "1:3", "2:3"]);

    // the client on node 2 never answers "q2"
    for (const c of [k[0], k[1]] as ClientSocket[])
      c.on("q2", (ack: (answer: string) => void) => ack(`${k.indexOf(c)}`));
    const outcome = await new Promise<[Error | null, string[]]>((resolve) => {
      io(0)
        .to("ack")
        .timeout(1000)
        .emit("q2", (err: Error | null, responses: string[]) => resolve([err, responses]));
    });
    assert.equal(outcome[0]?.message, "operation has timed out");
    assert.deepEqual(outcome[1].sort(), ["0", "1"]);
  });

  test("local reaches this node's clients only", async () => {
    const here = await client(0, ["loc"]);
    const there = await client(1, ["loc"]);
    const counts = countEvents([here, there], "local");
    const got = waitFor(here, "local");
    io(0).local.to("loc").emit("local");
    await got;
    const marker = waitFor(there, "marker");
    io(0).to("loc").emit("marker");
    await marker;
    assert.deepEqual(counts, [1, 0]);
  });
});
