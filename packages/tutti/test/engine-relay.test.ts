import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server as HttpServer, request as httpRequest, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Socket as EngineClient } from "engine.io-client";
import { type Socket as ClientSocket, io as ioClient } from "socket.io-client";
import type { EngineCluster } from "../src/engine/cluster.js";
import type { RelayOptions } from "../src/engine/options.js";
import { RelayHeaders, signRelay } from "../src/engine/relay-signature.js";
import { type ConnectionError, EngineServer, type EngineSession, Server, type Socket } from "../src/index.js";
import { type RoundRobinProxy, startRoundRobinProxy } from "./helpers/round-robin-proxy.js";
import { http } from "./helpers.js";
import { connected, waitFor } from "./sio-helpers.js";

/** A cluster's membership over a shared Map: nodes by tag, with their relay addresses. */
class TestCluster {
  readonly members = new Map<string, { address?: string }>();
  readonly key = randomBytes(32);

  node(tag: string): EngineCluster {
    this.members.set(tag, {});
    return {
      tag,
      locate: async (wanted) => this.members.get(wanted),
      setAddress: (address) => {
        const member = this.members.get(tag);
        if (member !== undefined) member.address = address;
      },
      secret: async () => this.key,
    };
  }

  leave(tag: string): void {
    this.members.delete(tag);
  }
}

interface Node {
  tag: string;
  io: Server;
  httpServer: HttpServer;
  port: number;
  relayAddress: string;
  /** Requests the node's public port served. */
  served: number;
  /** What each engine request's middleware saw: whether it carried the relay headers, and the engine's address for it. */
  seen: { relayHeader: boolean; peer: string | undefined; address: string }[];
  /** handshake.address of each socket.io connection, by engine sid. */
  addresses: Map<string, string>;
  errors: ConnectionError[];
}

const TAGS = ["nodeAA", "nodeBB", "nodeCC"];

async function startNode(cluster: TestCluster, tag: string): Promise<Node> {
  const io = new Server({ pingInterval: 2000, pingTimeout: 2000 });
  const httpServer = createServer();
  io.attach(httpServer);
  await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  const node: Node = {
    tag,
    io,
    httpServer,
    port: (httpServer.address() as AddressInfo).port,
    relayAddress: "",
    served: 0,
    seen: [],
    addresses: new Map(),
    errors: [],
  };
  httpServer.on("request", () => node.served++);
  io.engine.use((req: IncomingMessage, _res, next) => {
    node.seen.push({
      relayHeader: req.headers[RelayHeaders.tag] !== undefined,
      peer: req.socket.remoteAddress,
      address: io.engine.remoteAddress(req),
    });
    next();
  });
  io.engine.on("connection_error", (err) => node.errors.push(err));
  io.on("connection", (socket: Socket) => {
    node.addresses.set(socket.conn.id, socket.handshake.address);
    socket.on("echo", (value: unknown, ack: (value: unknown) => void) => ack(value));
    socket.on("push", (count: number) => {
      for (let i = 0; i < count; i++) socket.emit("seq", i);
    });
  });
  node.relayAddress = await io.engine.joinCluster(cluster.node(tag));
  return node;
}

/** The node owning the session of `client`: the one whose tag starts its engine id. */
function ownerOf(nodes: readonly Node[], client: ClientSocket): Node {
  const sid = client.io.engine.id;
  const owner = nodes.find((node) => sid.startsWith(node.tag));
  assert.ok(owner, `no node owns ${sid}`);
  return owner;
}

/** `count` acks in order, then `count` server pushes in order. */
async function exercise(client: ClientSocket, count: number): Promise<void> {
  const acks: unknown[] = [];
  for (let i = 0; i < count; i++) acks.push(await client.timeout(5000).emitWithAck("echo", i));
  assert.deepEqual(
    acks,
    Array.from({ length: count }, (_, i) => i),
  );
  const pushed: number[] = [];
  const all = new Promise<void>((resolve) => {
    client.on("seq", (i: number) => {
      pushed.push(i);
      if (pushed.length === count) resolve();
    });
  });
  client.emit("push", count);
  await all;
  client.off("seq");
  assert.deepEqual(
    pushed,
    Array.from({ length: count }, (_, i) => i),
  );
}

describe("relay: any node serves any session (no sticky sessions)", () => {
  let cluster: TestCluster;
  let nodes: Node[];
  let proxy: RoundRobinProxy;
  const clients: ClientSocket[] = [];

  function client(transports: ("polling" | "websocket")[], extra: Record<string, unknown> = {}): ClientSocket {
    const socket = ioClient(proxy.url, { forceNew: true, transports, reconnection: false, ...extra });
    clients.push(socket);
    return socket;
  }

  before(async () => {
    cluster = new TestCluster();
    nodes = [];
    for (const tag of TAGS) nodes.push(await startNode(cluster, tag));
    proxy = await startRoundRobinProxy(nodes.map((node) => node.port));
  });

  after(async () => {
    for (const socket of clients) socket.disconnect();
    await proxy.close();
    for (const node of nodes) {
      await node.io.close();
      node.httpServer.closeAllConnections();
    }
  });

  test("session ids carry the owner's tag, 20 characters in all", async () => {
    const socket = client(["polling"]);
    await connected(socket);
    const sid = socket.io.engine.id;
    assert.equal(sid.length, 20);
    assert.ok(TAGS.includes(sid.slice(0, 6)));
    assert.match(sid, /^[A-Za-z0-9_-]{20}$/);
    socket.disconnect();
  });

  test("polling-only clients: acks and server pushes arrive in order, most requests relayed", async () => {
    const before = nodes.map((node) => ({ ...node.io.engine.relayStats }));
    const servedBefore = nodes.map((node) => node.served);
    const sockets = [0, 1, 2].map(() => client(["polling"]));
    await Promise.all(sockets.map((socket) => connected(socket)));
    await Promise.all(sockets.map((socket) => exercise(socket, 20)));
    const relayed = nodes.map(
      (node, i) => node.io.engine.relayStats.relayedRequests - (before[i]?.relayedRequests ?? 0),
    );
    const served = nodes.map((node, i) => node.served - (servedBefore[i] ?? 0));
    const total = served.reduce((a, b) => a + b, 0);
    const relayedTotal = relayed.reduce((a, b) => a + b, 0);
    console.log(
      `polling: public requests per node ${served.join("/")}, relayed ${relayed.join("/")} (${relayedTotal}/${total})`,
    );
    assert.ok(relayedTotal > 0);
    for (const socket of sockets) {
      const owner = ownerOf(nodes, socket);
      // the handshake came from the balancer (127.0.0.2), not from a relaying node
      assert.equal(owner.addresses.get(socket.io.engine.id), "127.0.0.2");
    }
    // relayed requests reach the owner from a node (127.0.0.1); the engine gives the client's address
    const relayedSeen = nodes.flatMap((node) => node.seen.filter((seen) => seen.relayHeader));
    assert.ok(relayedSeen.length > 0);
    for (const seen of relayedSeen) {
      assert.equal(seen.peer, "127.0.0.1");
      assert.equal(seen.address, "127.0.0.2");
    }
    for (const socket of sockets) socket.disconnect();
  });

  test("WebSocket-only clients connect through any node", async () => {
    const sockets = [0, 1, 2].map(() => client(["websocket"]));
    await Promise.all(sockets.map((socket) => connected(socket)));
    await Promise.all(sockets.map((socket) => exercise(socket, 10)));
    for (const socket of sockets) {
      assert.equal(ownerOf(nodes, socket).addresses.get(socket.io.engine.id), "127.0.0.2");
      socket.disconnect();
    }
  });

  test("upgrading clients: the upgrade reaches the owner through another node; handshake.address stays the client's", async () => {
    const relayedUpgrades = (): number =>
      nodes.reduce((sum, node) => sum + node.io.engine.relayStats.relayedUpgrades, 0);
    const start = relayedUpgrades();
    // the balancer sends an upgrade to the owner one time in three: try until one went elsewhere
    for (let attempt = 0; attempt < 12 && relayedUpgrades() === start; attempt++) {
      const socket = client(["polling", "websocket"]);
      await connected(socket);
      if (socket.io.engine.transport.name !== "websocket") await waitFor(socket.io.engine, "upgrade");
      assert.equal(socket.io.engine.transport.name, "websocket");
      await exercise(socket, 10);
      const owner = ownerOf(nodes, socket);
      const session = owner.io.engine.clients.get(socket.io.engine.id);
      assert.equal(session?.transport.name, "websocket");
      const serverSocket = [...owner.io.of("/").sockets.values()].find((s) => s.conn.id === socket.io.engine.id);
      assert.equal(serverSocket?.handshake.address, "127.0.0.2");
      socket.disconnect();
    }
    assert.ok(relayedUpgrades() > start, "no upgrade was relayed in 12 tries");
  });

  test("a forged relay header on a public port counts for nothing", async () => {
    const owner = nodes[0] as Node;
    const other = nodes[1] as Node;
    const open = await http(owner.port, "GET", "/socket.io/?EIO=4&transport=polling");
    const sid = (JSON.parse(open.body.slice(1)) as { sid: string }).sid;
    assert.ok(sid.startsWith(owner.tag));
    const url = `/socket.io/?EIO=4&transport=polling&sid=${sid}`;
    // signed with a wrong key, claiming another address, sent to a node that is not the owner
    const forged = Object.fromEntries(signRelay(randomBytes(32), other.tag, "6.6.6.6", "POST", url, Date.now()));
    owner.seen.length = 0;
    const post = await http(other.port, "POST", url, "40", forged);
    assert.equal(post.status, 200);
    assert.equal(post.body, "ok");
    const poll = await http(other.port, "GET", url, undefined, forged);
    assert.equal(poll.status, 200);
    assert.match(poll.body, /^40\{"sid":/);
    assert.deepEqual(
      owner.seen.map((seen) => [seen.relayHeader, seen.peer, seen.address]),
      [
        [true, "127.0.0.1", "127.0.0.1"],
        [true, "127.0.0.1", "127.0.0.1"],
      ],
    );
    // to the owner's public port: a plain request, the headers ignored (no 403, no address taken)
    owner.seen.length = 0;
    const direct = await http(owner.port, "POST", url, "2", forged);
    assert.equal(direct.status, 200);
    assert.deepEqual(owner.seen, [{ relayHeader: true, peer: "127.0.0.1", address: "127.0.0.1" }]);
    await http(owner.port, "POST", url, "1");
  });

  test("the relay listener refuses unsigned, badly signed and stale requests with a 403", async () => {
    const node = nodes[0] as Node;
    const [host, port] = [
      node.relayAddress.slice(0, node.relayAddress.lastIndexOf(":")),
      Number(node.relayAddress.slice(node.relayAddress.lastIndexOf(":") + 1)),
    ];
    assert.equal(host, "127.0.0.1");
    const url = "/socket.io/?EIO=4&transport=polling&sid=nodeAAxxxxxxxxxxxxxx";
    node.errors.length = 0;
    const before = node.io.engine.relayStats.refusedSignature;
    const unsigned = await http(port, "GET", url);
    assert.equal(unsigned.status, 403);
    assert.deepEqual(JSON.parse(unsigned.body), { code: 4, message: "Forbidden" });
    const wrongKey = Object.fromEntries(signRelay(randomBytes(32), "nodeBB", "1.2.3.4", "GET", url, Date.now()));
    assert.equal((await http(port, "GET", url, undefined, wrongKey)).status, 403);
    const stale = Object.fromEntries(signRelay(cluster.key, "nodeBB", "1.2.3.4", "GET", url, Date.now() - 31_000));
    assert.equal((await http(port, "GET", url, undefined, stale)).status, 403);
    const otherUrl = Object.fromEntries(
      signRelay(cluster.key, "nodeBB", "1.2.3.4", "GET", "/socket.io/?x", Date.now()),
    );
    assert.equal((await http(port, "GET", url, undefined, otherUrl)).status, 403);
    assert.equal(node.io.engine.relayStats.refusedSignature - before, 4);
    assert.deepEqual(
      node.errors.map((err) => [err.code, err.context.name]),
      Array.from({ length: 4 }, () => [4, "RELAY_SIGNATURE_INVALID"]),
    );
    // a good signature for an unknown sid: the 400, never relayed again
    const good = Object.fromEntries(signRelay(cluster.key, "nodeBB", "1.2.3.4", "GET", url, Date.now()));
    const unknown = await http(port, "GET", url, undefined, good);
    assert.equal(unknown.status, 400);
    assert.deepEqual(JSON.parse(unknown.body), { code: 1, message: "Session ID unknown" });
    const foreign = "/socket.io/?EIO=4&transport=polling&sid=nodeCCxxxxxxxxxxxxxx";
    const signedForeign = Object.fromEntries(signRelay(cluster.key, "nodeBB", "1.2.3.4", "GET", foreign, Date.now()));
    const relaysBefore = node.io.engine.relayStats.relayedRequests;
    const notAgain = await http(port, "GET", foreign, undefined, signedForeign);
    assert.equal(notAgain.status, 400);
    assert.equal(node.io.engine.relayStats.relayedRequests, relaysBefore);
    // handshakes are served where they land, never relayed
    const handshake = "/socket.io/?EIO=4&transport=polling";
    const signedHandshake = Object.fromEntries(
      signRelay(cluster.key, "nodeBB", "1.2.3.4", "GET", handshake, Date.now()),
    );
    assert.equal((await http(port, "GET", handshake, undefined, signedHandshake)).status, 400);
  });
});

describe("relay: raw Engine.IO sessions", () => {
  test("an engine.io client polls and upgrades through the balancer; messages both ways in order", async () => {
    const cluster = new TestCluster();
    const engines: { engine: EngineServer; httpServer: HttpServer; port: number }[] = [];
    for (const tag of TAGS) {
      const httpServer = createServer();
      const engine = new EngineServer({ path: "/engine.io/" }).attach(httpServer);
      await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
      await engine.joinCluster(cluster.node(tag));
      engines.push({ engine, httpServer, port: (httpServer.address() as AddressInfo).port });
    }
    const proxy = await startRoundRobinProxy(engines.map((entry) => entry.port));
    const sockets: EngineClient[] = [];
    try {
      for (const transports of [["polling"], ["polling", "websocket"]] as const) {
        const socket = new EngineClient(proxy.url, { transports: [...transports] });
        sockets.push(socket);
        await waitFor(socket, "open");
        if (transports.length === 2 && socket.transport.name !== "websocket") await waitFor(socket, "upgrade");
        const sid = socket.id as string;
        const owner = engines.find((entry) => entry.engine.clients.has(sid));
        assert.ok(owner, `no engine holds ${sid}`);
        const session = owner.engine.clients.get(sid) as EngineSession;
        const got: string[] = [];
        const done = new Promise<void>((resolve) => {
          session.on("message", (data) => {
            got.push(String(data));
            if (got.length === 5) resolve();
          });
        });
        for (let i = 0; i < 5; i++) socket.send(`m${i}`);
        await done;
        assert.deepEqual(got, ["m0", "m1", "m2", "m3", "m4"]);
        const received: string[] = [];
        const pushed = new Promise<void>((resolve) => {
          socket.on("message", (data) => {
            received.push(String(data));
            if (received.length === 3) resolve();
          });
        });
        for (let i = 0; i < 3; i++) session.send(`s${i}`);
        await pushed;
        assert.deepEqual(received, ["s0", "s1", "s2"]);
        assert.equal(session.transport.name, transports.length === 2 ? "websocket" : "polling");
      }
      const relayed = engines.reduce((sum, entry) => sum + entry.engine.relayStats.relayedRequests, 0);
      console.log(`raw engine: relayed requests ${relayed}, upgrades per node ${proxy.upgrades.join("/")}`);
      assert.ok(relayed > 0);
    } finally {
      for (const socket of sockets) socket.close();
      await proxy.close();
      for (const entry of engines) {
        await new Promise<void>((resolve) => entry.engine.close(() => resolve()));
        await new Promise<void>((resolve) => entry.httpServer.close(() => resolve()));
        entry.httpServer.closeAllConnections();
      }
    }
  });
});

/** Two bare engines in one cluster, each on its own loopback port; the first with `relayA`. */
async function startPair(
  cluster: TestCluster,
  relayA: RelayOptions = {},
): Promise<{
  engines: { engine: EngineServer; httpServer: HttpServer; port: number; address: string }[];
  close(): Promise<void>;
}> {
  const engines: { engine: EngineServer; httpServer: HttpServer; port: number; address: string }[] = [];
  for (const [i, tag] of ["pairAA", "pairBB"].entries()) {
    const httpServer = createServer();
    const engine = new EngineServer({ path: "/engine.io/" }).attach(httpServer);
    await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
    const address = await engine.joinCluster(cluster.node(tag), i === 0 ? relayA : {});
    engines.push({ engine, httpServer, port: (httpServer.address() as AddressInfo).port, address });
  }
  return {
    engines,
    async close() {
      for (const entry of engines) {
        await new Promise<void>((resolve) => entry.engine.close(() => resolve()));
        await new Promise<void>((resolve) => entry.httpServer.close(() => resolve()));
        entry.httpServer.closeAllConnections();
      }
    },
  };
}

/** Opens a polling session on `port` with a raw handshake; gives its sid. */
async function rawHandshake(port: number): Promise<string> {
  const open = await http(port, "GET", "/engine.io/?EIO=4&transport=polling");
  assert.equal(open.status, 200);
  return (JSON.parse(open.body.slice(1)) as { sid: string }).sid;
}

describe("relay: listener and propagation", () => {
  test("a relay listener on a Unix socket path (node:cluster workers) relays; advertise is what is announced", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tutti-relay-"));
    const path = join(dir, "relay.sock");
    const cluster = new TestCluster();
    const pair = await startPair(cluster, { path });
    try {
      const [a, b] = pair.engines as [(typeof pair.engines)[0], (typeof pair.engines)[0]];
      assert.equal(a.address, path);
      assert.equal(cluster.members.get("pairAA")?.address, path);
      const sid = await rawHandshake(a.port);
      assert.ok(sid.startsWith("pairAA"));
      const session = a.engine.clients.get(sid) as EngineSession;
      const got = waitFor<[string]>(session, "message");
      const post = await http(b.port, "POST", `/engine.io/?EIO=4&transport=polling&sid=${sid}`, "4hello");
      assert.equal(post.status, 200);
      assert.deepEqual(await got, ["hello"]);
      session.send("back");
      const poll = await http(b.port, "GET", `/engine.io/?EIO=4&transport=polling&sid=${sid}`);
      assert.equal(poll.body, "4back");
      assert.equal(b.engine.relayStats.relayedRequests, 2);
    } finally {
      await pair.close();
      rmSync(dir, { recursive: true, force: true });
    }
    const advertised = new TestCluster();
    const other = await startPair(advertised, { host: "127.0.0.1", port: 0, advertise: "127.0.0.1:1" });
    try {
      assert.equal(other.engines[0]?.address, "127.0.0.1:1");
      assert.equal(advertised.members.get("pairAA")?.address, "127.0.0.1:1");
      // nobody answers there: the owner cannot be reached, its sessions' requests get the 400
      const sid = await rawHandshake(other.engines[0]?.port as number);
      const answer = await http(
        other.engines[1]?.port as number,
        "GET",
        `/engine.io/?EIO=4&transport=polling&sid=${sid}`,
      );
      assert.deepEqual([answer.status, JSON.parse(answer.body)], [400, { code: 1, message: "Session ID unknown" }]);
    } finally {
      await other.close();
    }
  });

  test("a client that aborts a relayed poll aborts it on the owner too", async () => {
    const cluster = new TestCluster();
    const pair = await startPair(cluster);
    try {
      const [a, b] = pair.engines as [(typeof pair.engines)[0], (typeof pair.engines)[0]];
      const sid = await rawHandshake(a.port);
      const session = a.engine.clients.get(sid) as EngineSession;
      const closed = waitFor<[string, string?]>(session, "close");
      const req = httpRequest({
        host: "127.0.0.1",
        port: b.port,
        path: `/engine.io/?EIO=4&transport=polling&sid=${sid}`,
      });
      req.on("error", () => {});
      req.end();
      // the poll is pending on the owner once the relayed request reached it
      await waitFor(a.engine, "headers");
      req.destroy();
      const [reason, description] = await closed;
      assert.equal(reason, "transport error");
      assert.equal(description, "polling GET closed prematurely");
    } finally {
      await pair.close();
    }
  });
});

describe("relay: a node that goes away", () => {
  test("its sessions' next requests get the 400 at once elsewhere, and the clients reconnect to another node", async () => {
    const cluster = new TestCluster();
    const nodes: Node[] = [];
    for (const tag of TAGS) nodes.push(await startNode(cluster, tag));
    const proxy = await startRoundRobinProxy(nodes.map((node) => node.port));
    const sockets: ClientSocket[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        sockets.push(
          ioClient(proxy.url, {
            forceNew: true,
            transports: ["polling"],
            reconnectionDelay: 50,
            reconnectionDelayMax: 100,
            randomizationFactor: 0,
          }),
        );
      }
      await Promise.all(sockets.map((socket) => connected(socket)));
      const first = sockets[0] as ClientSocket;
      const owner = ownerOf(nodes, first);
      const index = nodes.indexOf(owner);
      const gone = sockets.filter((socket) => ownerOf(nodes, socket) === owner);
      const oldIds = gone.map((socket) => socket.io.engine.id);
      const reconnected = gone.map((socket) => waitFor(socket, "connect", 10_000));

      proxy.disable(index);
      await owner.io.close();
      owner.httpServer.closeAllConnections();

      // still a member with an address nobody answers (a crash before the registry expires)
      const survivor = nodes.find((node) => node !== owner) as Node;
      const before = survivor.io.engine.relayStats.refusedUnknown;
      const answer = await http(survivor.port, "GET", `/socket.io/?EIO=4&transport=polling&sid=${oldIds[0]}`);
      assert.equal(answer.status, 400);
      assert.deepEqual(JSON.parse(answer.body), { code: 1, message: "Session ID unknown" });
      // gone from the membership
      cluster.leave(owner.tag);
      const post = await http(survivor.port, "POST", `/socket.io/?EIO=4&transport=polling&sid=${oldIds[0]}`, "40");
      assert.equal(post.status, 400);
      assert.deepEqual(JSON.parse(post.body), { code: 1, message: "Session ID unknown" });
      assert.equal(survivor.io.engine.relayStats.refusedUnknown - before, 2);

      await Promise.all(reconnected);
      for (const socket of gone) {
        const newOwner = ownerOf(nodes, socket);
        assert.notEqual(newOwner, owner);
        await exercise(socket, 5);
      }
    } finally {
      for (const socket of sockets) socket.disconnect();
      await proxy.close();
      for (const node of nodes) {
        await node.io.close();
        node.httpServer.closeAllConnections();
      }
    }
  });
});
