/**
 * The cluster adapter over the in-process hub: the adapter contract with three servers, and the
 * cluster's own rules (a node that goes stops being waited for; an older node is not asked).
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { createClusterAdapter, MemoryHub, Server } from "../src/index.js";
import { adapterContract } from "../src/testing/index.js";

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
