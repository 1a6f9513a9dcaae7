import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { type Socket as ClientSocket, io as connectClient } from "socket.io-client";
import type { Server } from "../server/server.js";
import type { Socket } from "../server/socket.js";

/** A cluster under test: `size` servers on loopback, each with the adapter being checked. */
export interface ContractCluster {
  /** The servers, attached to listening HTTP servers. */
  readonly servers: readonly Server[];
  /** Stops the servers and whatever the adapter needs (brokers, connections). */
  close(): Promise<void>;
}

export interface AdapterContractOptions {
  /** Starts `size` servers (3 in this suite). */
  start(size: number): Promise<ContractCluster>;
  /** How long a wait may take before the suite calls it a failure, in ms. Default 10000. */
  patience?: number;
}

function portOf(server: Server): number {
  const http = server.httpServer as { address(): AddressInfo | string | null } | undefined;
  const address = http?.address();
  if (address === null || address === undefined || typeof address === "string")
    throw new Error("server is not listening");
  return address.port;
}

function once<T extends unknown[]>(emitter: { once(ev: string, fn: (...args: T) => void): unknown }, ev: string) {
  return new Promise<T>((resolve) => emitter.once(ev, (...args: T) => resolve(args)));
}

/**
 * The contract every cluster adapter keeps, checked with the official client on loopback: the
 * Server API across nodes with socket.io's semantics. Call it at the top level of a test file:
 * `adapterContract("my adapter", { start })`. Each node gets one client per test room layout;
 * the checks assert who got what, never timings.
 */
export function adapterContract(name: string, opts: AdapterContractOptions): void {
  const patience = opts.patience ?? 10_000;

  describe(`adapter contract: ${name}`, () => {
    let cluster: ContractCluster;
    let clients: ClientSocket[] = [];
    /** Per node, its server-side socket of this test's client. */
    let sockets: Socket[] = [];

    const within = <T>(promise: Promise<T>, what: string): Promise<T> =>
      new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`waited ${patience} ms for ${what}`)), patience);
        promise.then(
          (value) => {
            clearTimeout(timer);
            resolve(value);
          },
          (err: unknown) => {
            clearTimeout(timer);
            reject(err);
          },
        );
      });

    /** Connects one client to each node; `sockets[i]` is node i's socket of client i. */
    async function connectAll(): Promise<void> {
      clients = [];
      sockets = [];
      for (const server of cluster.servers) {
        const arrived = once<[Socket]>(server.sockets as never, "connection");
        const client = connectClient(`http://127.0.0.1:${portOf(server)}`, {
          transports: ["websocket"],
          forceNew: true,
          reconnection: false,
        });
        clients.push(client);
        const [socket] = await within(arrived, "a connection");
        await within(once(client, "connect"), "the client's connect");
        // the socket's own room is subscribed before it is counted as reachable
        await socket.join(socket.id);
        sockets.push(socket);
      }
    }

    /** Waits until every node sees `size` nodes. */
    async function settled(size: number): Promise<void> {
      const deadline = Date.now() + patience;
      for (;;) {
        const counts = await Promise.all(cluster.servers.map((server) => server.of("/").adapter.serverCount()));
        if (counts.every((count) => count === size)) return;
        if (Date.now() > deadline) throw new Error(`serverCount stayed ${counts.join(",")}, expected ${size}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }

    /** Collects event `ev` on every client until `marker` arrives on each. */
    function collect(ev: string): { got: unknown[][]; done: Promise<void> } {
      const got: unknown[][] = clients.map(() => []);
      const done = Promise.all(
        clients.map(
          (client, i) =>
            new Promise<void>((resolve) => {
              client.on(ev, (...args: unknown[]) => (got[i] as unknown[]).push(args.length === 1 ? args[0] : args));
              client.once("marker", () => resolve());
            }),
        ),
      ).then(() => undefined);
      return { got, done };
    }

    before(async () => {
      cluster = await opts.start(3);
      await settled(3);
    });

    after(async () => {
      await cluster.close();
    });

    test.beforeEach(async () => {
      await connectAll();
    });

    test.afterEach(() => {
      for (const client of clients) client.disconnect();
    });

    test("serverCount() counts every node", async () => {
      for (const server of cluster.servers) assert.equal(await server.of("/").adapter.serverCount(), 3);
    });

    test("a broadcast to a room reaches its members on every node, and no one else", async () => {
      const [a, b, c] = cluster.servers as [Server, Server, Server];
      await sockets[0]?.join("r");
      await sockets[2]?.join("r");
      const { got, done } = collect("news");
      b.to("r").emit("news", 1);
      b.emit("news", 2);
      a.except("r").emit("news", 3);
      c.emit("marker");
      await within(done, "the markers");
      assert.deepEqual(got, [
        [1, 2],
        [2, 3],
        [1, 2],
      ]);
    });

    test("one node's broadcasts arrive in the order they were made, binary included", async () => {
      for (const socket of sockets) await socket.join("ordered");
      const { got, done } = collect("n");
      const from = cluster.servers[1] as Server;
      for (let i = 0; i < 50; i++) from.to("ordered").emit("n", i);
      from.to("ordered").emit("n", Buffer.from([1, 2, 3]));
      from.emit("marker");
      await within(done, "the markers");
      for (const list of got) {
        assert.deepEqual(list.slice(0, 50), [...Array(50).keys()]);
        assert.deepEqual(new Uint8Array(list[50] as ArrayBuffer), new Uint8Array([1, 2, 3]));
      }
    });

    test("socket.broadcast and to(room).except skip the sender and the excluded rooms everywhere", async () => {
      for (const socket of sockets) await socket.join("all3");
      await sockets[1]?.join("quiet");
      const { got, done } = collect("b");
      sockets[0]?.broadcast.emit("b", "everyone but 0");
      sockets[2]?.to("all3").except("quiet").emit("b", "all3 but quiet and 2");
      cluster.servers[0]?.emit("marker");
      await within(done, "the markers");
      assert.deepEqual(got, [["all3 but quiet and 2"], ["everyone but 0"], ["everyone but 0"]]);
    });

    test("local broadcasts stay on their node", async () => {
      const { got, done } = collect("l");
      cluster.servers[0]?.local.emit("l", "here");
      cluster.servers[1]?.emit("marker");
      await within(done, "the markers");
      assert.deepEqual(got, [["here"], [], []]);
    });

    test("a broadcast with acks gathers every node's clients; a silent one gives the timeout error", async () => {
      clients.forEach((client, i) => {
        client.on("ask", (n: number, ack: (answer: unknown) => void) => ack(n * 10 + i));
      });
      const responses = await within(
        (cluster.servers[0] as Server).timeout(patience).emitWithAck("ask", 4) as Promise<number[]>,
        "the acks",
      );
      assert.deepEqual([...responses].sort(), [40, 41, 42]);
      clients[2]?.off("ask");
      clients[2]?.on("ask", () => {});
      const err = await (cluster.servers[1] as Server)
        .timeout(300)
        .emitWithAck("ask", 5)
        .then(
          () => undefined,
          (e: Error & { responses?: unknown[] }) => e,
        );
      assert.ok(err instanceof Error);
      assert.equal(err.message, "operation has timed out");
      assert.deepEqual([...(err.responses ?? [])].sort(), [50, 51]);
    });

    test("fetchSockets() returns every node's sockets; another node's can be emitted to, asked, joined, left and disconnected", async () => {
      const socket2 = sockets[2] as Socket;
      socket2.data = { user: "carol" };
      await socket2.join("team");
      const all = await cluster.servers[0]?.fetchSockets();
      assert.deepEqual(all?.map((s) => s.id).sort(), sockets.map((s) => s.id).sort());
      const [remote] = (await cluster.servers[0]?.in("team").fetchSockets()) ?? [];
      assert.ok(remote);
      assert.equal(remote.id, socket2.id);
      assert.deepEqual(remote.data, { user: "carol" });
      assert.ok(remote.rooms instanceof Set);
      assert.deepEqual([...remote.rooms].sort(), [socket2.id, "team"].sort());
      assert.equal(typeof remote.handshake.address, "string");
      assert.equal(remote.handshake.query.EIO, "4");

      const hello = once<[string]>(clients[2] as ClientSocket, "hello");
      remote.emit("hello", "from 0");
      assert.deepEqual(await within(hello, "hello"), ["from 0"]);

      clients[2]?.on("q", (ack: (v: string) => void) => ack("answer"));
      const answer = await within(remote.timeout(patience).emitWithAck("q"), "the ack");
      assert.equal(answer, "answer");

      remote.join("later");
      remote.leave("team");
      const deadline = Date.now() + patience;
      while (!(socket2.rooms.has("later") && !socket2.rooms.has("team"))) {
        if (Date.now() > deadline) throw new Error(`rooms stayed ${[...socket2.rooms]}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const gone = once<[string]>(clients[2] as ClientSocket, "disconnect");
      remote.disconnect();
      const [reason] = await within(gone, "the disconnect");
      assert.equal(reason, "io server disconnect");
    });

    test("socketsJoin, socketsLeave and disconnectSockets act on every node", async () => {
      const [a] = cluster.servers as [Server];
      a.socketsJoin("joined");
      const deadline = Date.now() + patience;
      while (!sockets.every((s) => s.rooms.has("joined"))) {
        if (Date.now() > deadline) throw new Error("socketsJoin did not reach every node");
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      a.in("joined")
        .except(sockets[1]?.id as string)
        .socketsLeave("joined");
      while (sockets[0]?.rooms.has("joined") || sockets[2]?.rooms.has("joined")) {
        if (Date.now() > deadline) throw new Error("socketsLeave did not reach every node");
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.ok(sockets[1]?.rooms.has("joined"));
      const gone = clients.map((client) => once<[string]>(client, "disconnect"));
      a.disconnectSockets();
      const reasons = await within(Promise.all(gone), "every disconnect");
      assert.deepEqual(
        reasons.map(([reason]) => reason),
        ["io server disconnect", "io server disconnect", "io server disconnect"],
      );
    });

    test("serverSideEmit reaches the other nodes; with an ack, one answer per node", async () => {
      const [a, b, c] = cluster.servers as [Server, Server, Server];
      const seen: string[] = [];
      b.on("ping-nodes", (who: string, ack?: (v: string) => void) => {
        seen.push(`b:${who}`);
        ack?.("b");
      });
      c.on("ping-nodes", (who: string, ack?: (v: string) => void) => {
        seen.push(`c:${who}`);
        ack?.("c");
      });
      a.on("ping-nodes", () => seen.push("a: must not hear itself"));
      const answers = await within(a.serverSideEmitWithAck("ping-nodes", "x") as Promise<string[]>, "the answers");
      assert.deepEqual([...answers].sort(), ["b", "c"]);
      assert.deepEqual([...seen].sort(), ["b:x", "c:x"]);
      for (const server of [a, b, c]) server.sockets.removeAllListeners("ping-nodes");
    });
  });
}
