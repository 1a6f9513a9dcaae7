import assert from "node:assert/strict";
import { after, before, describe, it, type TestContext } from "node:test";
import { Cluster } from "ioredis";
import type { StoredMessage } from "tutti";
import { createRedisBroker, type RedisBroker } from "../src/index.js";
import { have, missing, next, RecordingFeed, startRedisCluster } from "./helpers.js";

// One run against a Redis Cluster of 3 masters started here: keys and channels share a slot per
// namespace, the publish script SPUBLISHes, and the subscriber is one connection per shard.

let cluster: Awaited<ReturnType<typeof startRedisCluster>> | undefined;
let reason = "redis-server and redis-cli";
before(async () => {
  if (!(await have("redis-server")) || !(await have("redis-cli"))) return;
  try {
    cluster = await startRedisCluster(3);
  } catch (error) {
    reason = `a local Redis Cluster (${error instanceof Error ? error.message.split("\n")[0] : String(error)})`;
  }
});
after(async () => {
  await cluster?.destroy();
});

function message(event: string, rooms: string[] = [], ...args: unknown[]): StoredMessage {
  return { rooms, except: [], compress: true, data: [event, ...args] };
}

async function brokers(t: TestContext, count: number) {
  const ports = cluster?.ports ?? [];
  const made: { broker: RedisBroker; client: Cluster; feeds: Map<string, RecordingFeed> }[] = [];
  t.after(async () => {
    await Promise.all(made.map(({ broker }) => broker.close()));
    for (const { client } of made) client.disconnect();
  });
  for (let i = 0; i < count; i++) {
    const client = new Cluster(ports.map((port) => ({ host: "127.0.0.1", port })));
    client.on("error", () => {});
    const broker = createRedisBroker(client, { heartbeatInterval: 100, heartbeatTimeout: 400, membersInterval: 50 });
    made.push({ broker, client, feeds: new Map() });
  }
  await Promise.all(made.map(({ broker }) => broker.ready()));
  const link = async (i: number, nsp: string) => {
    const node = made[i] as (typeof made)[0];
    const feed = new RecordingFeed();
    node.feeds.set(nsp, feed);
    const linked = node.broker.namespace(nsp, feed);
    await linked.subscribe([]); // the namespace's own channels are live once a subscribe resolves
    return { link: linked, feed };
  };
  return { made, link };
}

describe("RedisBroker on a Redis Cluster (3 masters)", () => {
  it("keeps one order per namespace across rooms, delivers only held rooms, round-trips binary", async (t) => {
    if (cluster === undefined) return missing(t, reason);
    const { link } = await brokers(t, 3);
    const a = await link(0, "/");
    const b = await link(1, "/");
    const c = await link(2, "/");
    const other = [await link(0, "/other"), await link(1, "/other")];
    await a.link.subscribe(["red", "blue"]);
    await b.link.subscribe(["blue"]);
    await other[1]?.link.subscribe(["red"]);
    const bytes = Buffer.from([0, 255, 1]);
    const sent: [string, string[]][] = [
      ["1", ["red"]],
      ["2", ["blue"]],
      ["3", ["red", "blue"]],
      ["4", []],
      ["5", ["green"]],
      ["6", ["blue"]],
    ];
    const positions = [];
    for (const [event, rooms] of sent) positions.push(await c.link.publish(message(event, rooms, bytes)));
    await other[0]?.link.publish(message("o1", ["red"]));
    assert.deepEqual(
      positions.map((p) => p.seq),
      [1, 2, 3, 4, 5, 6],
    );
    await c.link.publish(message("end"));
    for (const feed of [a.feed, b.feed, c.feed]) await feed.until(() => feed.events().includes("end"));
    assert.deepEqual(a.feed.events(), ["1", "2", "3", "4", "6", "end"]);
    assert.deepEqual(b.feed.events(), ["2", "3", "4", "6", "end"]);
    assert.deepEqual(c.feed.events(), ["4", "end"]);
    assert.deepEqual(a.feed.entries[0]?.data, ["1", bytes]);
    assert.ok(Buffer.isBuffer(a.feed.entries[0]?.data[1]));
    const otherFeed = other[1]?.feed as RecordingFeed;
    await otherFeed.until(() => otherFeed.entries.length === 1);
    assert.deepEqual(otherFeed.events(), ["o1"]);
    assert.equal(otherFeed.entries[0]?.seq, 1, "each namespace has its own order");
  });

  it("routes ephemeral messages and keeps the membership", async (t) => {
    if (cluster === undefined) return missing(t, reason);
    const { made, link } = await brokers(t, 3);
    const [na, nb, nc] = made.map((m) => m.broker) as [RedisBroker, RedisBroker, RedisBroker];
    const a = await link(0, "/");
    const b = await link(1, "/");
    const c = await link(2, "/");
    await b.link.subscribe(["room"]);
    a.link.broadcast({ t: "all" });
    a.link.broadcast({ t: "room" }, "room");
    a.link.sendTo(nc.tag, { t: "direct", bin: Buffer.from([9]) });
    await b.feed.until(() => b.feed.messages.length === 2);
    await c.feed.until(() => c.feed.messages.length === 2);
    assert.deepEqual(
      b.feed.messages.map((m) => m.message.t),
      ["all", "room"],
    );
    // the node channel lives on another shard than the namespace's: no order between the two
    assert.deepEqual(c.feed.messages.map((m) => [m.message.t, m.from]).sort(), [
      ["all", na.tag],
      ["direct", na.tag],
    ]);
    assert.deepEqual(c.feed.messages.find((m) => m.message.t === "direct")?.message.bin, Buffer.from([9]));
    while (na.members().size < 3) await next(na, "node-up");
    assert.deepEqual([...na.members().keys()].sort(), [na.tag, nb.tag, nc.tag].sort());
    const secrets = await Promise.all([na.secret(), nb.secret()]);
    assert.deepEqual(secrets[0], secrets[1]);
    const down = next(na, "node-down", (tag) => tag === nb.tag);
    await nb.close();
    await down;
    assert.equal(na.members().has(nb.tag), false);
  });
});
