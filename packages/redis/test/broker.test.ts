import assert from "node:assert/strict";
import { before, describe, it, type TestContext } from "node:test";
import { Redis } from "ioredis";
import { CLUSTER_PROTOCOL_VERSION, type StoredMessage } from "tutti";
import { Commands } from "../src/commands.js";
import { createRedisBroker, type RedisBroker, type RedisBrokerOptions } from "../src/index.js";
import { Keys } from "../src/keys.js";
import { deleteKeys, eventually, missing, next, RecordingFeed, randomPrefix, sharedRedisUp } from "./helpers.js";

// Brokers in one process on the shared Redis (127.0.0.1:6379), each test under its own key prefix.

let up = false;
before(async () => {
  up = await sharedRedisUp();
});

const fast = { heartbeatInterval: 100, heartbeatTimeout: 400, membersInterval: 50 } as const;

interface Cluster {
  brokers: RedisBroker[];
  feeds: RecordingFeed[];
  clients: Redis[];
}

/** `count` brokers on their own clients under a fresh prefix, each linked to namespace "/" with a recording feed. */
async function cluster(t: TestContext, count: number, options: (i: number) => RedisBrokerOptions = () => ({})) {
  const key = randomPrefix();
  const made: Cluster = { brokers: [], feeds: [], clients: [] };
  t.after(async () => {
    await Promise.all(made.brokers.map((broker) => broker.close()));
    const admin = new Redis({ host: "127.0.0.1", port: 6379 });
    await deleteKeys(admin, key);
    admin.disconnect();
    for (const client of made.clients) client.disconnect();
  });
  for (let i = 0; i < count; i++) {
    const client = new Redis({ host: "127.0.0.1", port: 6379 });
    made.clients.push(client);
    const broker = createRedisBroker(client, { key, ...fast, ...options(i) });
    made.brokers.push(broker);
    const feed = new RecordingFeed();
    made.feeds.push(feed);
  }
  await Promise.all(made.brokers.map((broker) => broker.ready()));
  const links = made.brokers.map((broker, i) => broker.namespace("/", made.feeds[i] as RecordingFeed));
  // the namespace's own channels are live once a subscribe resolves
  await Promise.all(links.map((link) => link.subscribe([])));
  return { ...made, links, key };
}

function message(event: string, rooms: string[] = [], ...args: unknown[]): StoredMessage {
  return { rooms, except: [], compress: true, data: [event, ...args] };
}

describe("RedisBroker on one Redis", () => {
  it("delivers each node only its rooms' messages, in seq order across rooms", async (t) => {
    if (!up) return missing(t, "Redis at 127.0.0.1:6379");
    const { links, feeds } = await cluster(t, 3);
    const [a, b, c] = links as [(typeof links)[0], (typeof links)[0], (typeof links)[0]];
    await a.subscribe(["red", "blue"]);
    await b.subscribe(["blue"]);
    // c holds no room: it gets only the room-less messages
    const sent: [string, string[]][] = [
      ["1", ["red"]],
      ["2", ["blue"]],
      ["3", ["red", "blue"]],
      ["4", []],
      ["5", ["green"]],
      ["6", ["blue", "green"]],
      ["7", ["red"]],
    ];
    const positions = [];
    for (const [event, rooms] of sent) positions.push(await c.publish(message(event, rooms)));
    // from several publishers at once, too: each one's order is kept
    const burst = await Promise.all([
      a.publish(message("8", ["red"])),
      b.publish(message("9", ["blue"])),
      a.publish(message("10", ["blue"])),
    ]);
    positions.push(...burst);
    const epoch = positions[0]?.epoch;
    assert.match(epoch ?? "", /^[A-Za-z0-9]{8}$/);
    assert.deepEqual(
      positions.map((p) => p.epoch),
      positions.map(() => epoch),
    );
    assert.deepEqual(
      positions.slice(0, 7).map((p) => p.seq),
      [1, 2, 3, 4, 5, 6, 7],
    );
    assert.ok((burst[0]?.seq ?? 0) < (burst[2]?.seq ?? 0), "one node's publishes are positioned in call order");

    const [fa, fb, fc] = feeds as [RecordingFeed, RecordingFeed, RecordingFeed];
    // a last room-less message: once a feed has it, it has everything before it
    await c.publish(message("end"));
    await Promise.all(feeds.map((feed) => feed.until(() => feed.events().includes("end"))));
    // a holds red and blue: a message to both comes once; green's never
    assert.deepEqual(fa.events().slice(0, 6), ["1", "2", "3", "4", "6", "7"]);
    assert.deepEqual([...fa.events()].sort(), ["1", "10", "2", "3", "4", "6", "7", "8", "9", "end"]);
    assert.deepEqual(fb.events().slice(0, 4), ["2", "3", "4", "6"]);
    assert.deepEqual([...fb.events()].sort(), ["10", "2", "3", "4", "6", "9", "end"]);
    assert.deepEqual(fc.events(), ["4", "end"]);
    for (const feed of [fa, fb]) {
      const seqs = feed.entries.map((e) => e.seq);
      assert.deepEqual(
        seqs,
        [...seqs].sort((x, y) => x - y),
        "the feed is in seq order",
      );
    }
    const order = (feed: RecordingFeed) => feed.events().filter((e) => e === "8" || e === "10");
    assert.deepEqual(order(fa), ["8", "10"]);
    const entry = fa.entries.find((e) => e.data[0] === "3");
    assert.deepEqual(entry?.rooms, ["red", "blue"]);
    assert.equal(entry?.seq, 3);
    assert.equal(entry?.epoch, epoch);
  });
});

describe("RedisBroker messages", () => {
  it("round-trips binary (Buffers and Uint8Arrays come back as Buffers) and plain data", async (t) => {
    if (!up) return missing(t, "Redis at 127.0.0.1:6379");
    const { links, feeds } = await cluster(t, 2);
    await links[1]?.subscribe(["bin"]);
    const bytes = Buffer.from([0, 1, 2, 255, 254, 0x80]);
    const data = { nested: [new Uint8Array([7, 8, 9]), { deep: bytes }], n: 1.5, s: "é✓", t: true, nil: null };
    await links[0]?.publish({ rooms: ["bin"], except: ["x"], compress: false, data: ["ev", bytes, data] });
    links[0]?.broadcast({ t: "raw", payload: bytes }, "bin");
    const feed = feeds[1] as RecordingFeed;
    await feed.until(() => feed.entries.length === 1 && feed.messages.length === 1);
    const entry = feed.entries[0];
    assert.deepEqual(entry?.data, ["ev", bytes, { ...data, nested: [Buffer.from([7, 8, 9]), { deep: bytes }] }]);
    assert.ok(Buffer.isBuffer(entry?.data[1]));
    assert.deepEqual(entry?.except, ["x"]);
    assert.equal(entry?.compress, false);
    assert.ok(Buffer.isBuffer(feed.messages[0]?.message.payload));
    assert.deepEqual(feed.messages[0]?.message.payload, bytes);
  });

  it("sends ephemeral messages to the namespace, a room's nodes or one node, never back to the sender", async (t) => {
    if (!up) return missing(t, "Redis at 127.0.0.1:6379");
    const { brokers, links, feeds } = await cluster(t, 3);
    const [a, b, c] = links as [(typeof links)[0], (typeof links)[0], (typeof links)[0]];
    await b.subscribe(["room"]);
    await a.subscribe(["room"]);
    a.broadcast({ t: "all" });
    a.broadcast({ t: "room" }, "room");
    a.sendTo(brokers[2]?.tag as string, { t: "direct" });
    c.broadcast({ t: "end" });
    const [fa, fb, fc] = feeds as [RecordingFeed, RecordingFeed, RecordingFeed];
    await fb.until(() => fb.messages.some((m) => m.message.t === "end"));
    await fa.until(() => fa.messages.some((m) => m.message.t === "end"));
    await fc.until(() => fc.messages.some((m) => m.message.t === "direct"));
    assert.deepEqual(
      fb.messages.map((m) => [m.message.t, m.from]),
      [
        ["all", brokers[0]?.tag],
        ["room", brokers[0]?.tag],
        ["end", brokers[2]?.tag],
      ],
    );
    assert.deepEqual(
      fa.messages.map((m) => m.message.t),
      ["end"],
    );
    assert.deepEqual(
      fc.messages.map((m) => [m.message.t, m.from]),
      [
        ["all", brokers[0]?.tag],
        ["direct", brokers[0]?.tag],
      ],
    );
  });

  it("stops delivering a room once unsubscribed, and drops the channel after the linger", async (t) => {
    if (!up) return missing(t, "Redis at 127.0.0.1:6379");
    const { links, feeds, key, clients } = await cluster(t, 2, () => ({ roomLinger: 20 }));
    const [a, b] = links as [(typeof links)[0], (typeof links)[0]];
    await b.subscribe(["r"]);
    await b.subscribe(["r"]); // counted twice: one unsubscribe keeps it
    await a.publish(message("1", ["r"]));
    b.unsubscribe(["r"]);
    await a.publish(message("2", ["r"]));
    const fb = feeds[1] as RecordingFeed;
    await fb.until(() => fb.events().includes("2")); // what arrives after the last unsubscribe is dropped
    b.unsubscribe(["r"]);
    await a.publish(message("3", ["r"]));
    await a.publish(message("end"));
    await fb.until(() => fb.events().includes("end"));
    assert.deepEqual(fb.events(), ["1", "2", "end"]);
    const channel = `${key}:{%2F}:c:r`;
    const admin = clients[0] as Redis;
    await eventually(async () => Number(((await admin.pubsub("NUMSUB", channel)) as [string, number])[1]) === 0);
  });

  it("keeps one epoch and rotates it (seq back to 1) when the namespace's meta is lost", async (t) => {
    if (!up) return missing(t, "Redis at 127.0.0.1:6379");
    const { links, key, clients } = await cluster(t, 1);
    const link = links[0] as (typeof links)[0];
    const first = await link.publish(message("1", ["r"]));
    const second = await link.publish(message("2", ["r"]));
    assert.equal(second.epoch, first.epoch);
    assert.equal(second.seq, first.seq + 1);
    const admin = clients[0] as Redis;
    const meta = await admin.hgetall(`${key}:{%2F}:meta`);
    assert.equal(meta.e, first.epoch);
    assert.equal(meta.s, "2");
    const stream = await admin.xrange(`${key}:{%2F}:r:r`, "-", "+");
    assert.deepEqual(
      stream.map(([id]) => id),
      ["1-0", "2-0"],
    );
    assert.ok((await admin.pttl(`${key}:{%2F}:r:r`)) > 0, "the stream expires");
    await admin.del(`${key}:{%2F}:meta`); // as an eviction would
    const third = await link.publish(message("3", ["r"]));
    assert.notEqual(third.epoch, first.epoch);
    assert.equal(third.seq, 1);
    // the older epoch's stream (higher ids) was replaced
    const after = await admin.xrange(`${key}:{%2F}:r:r`, "-", "+");
    assert.deepEqual(
      after.map(([id]) => id),
      ["1-0"],
    );
  });
});

describe("RedisBroker registry", () => {
  it("lists the live nodes with their protocol versions and addresses; shares one secret", async (t) => {
    if (!up) return missing(t, "Redis at 127.0.0.1:6379");
    const { brokers } = await cluster(t, 3, (i) => (i === 2 ? { protocolVersion: CLUSTER_PROTOCOL_VERSION - 1 } : {}));
    const [a, b, c] = brokers as [RedisBroker, RedisBroker, RedisBroker];
    assert.match(a.tag, /^[A-Za-z0-9_-]{6}$/);
    assert.equal(new Set([a.tag, b.tag, c.tag]).size, 3);
    b.setAddress("127.0.0.1:4000");
    await eventually(() => a.members().size === 3 && a.members().get(b.tag)?.address === "127.0.0.1:4000");
    assert.deepEqual(
      [...a.members().values()].map((n) => n.version).sort(),
      [CLUSTER_PROTOCOL_VERSION - 1, CLUSTER_PROTOCOL_VERSION, CLUSTER_PROTOCOL_VERSION].sort(),
    );
    assert.equal(a.members().get(c.tag)?.version, CLUSTER_PROTOCOL_VERSION - 1);
    assert.deepEqual(await c.locate(b.tag), {
      tag: b.tag,
      version: CLUSTER_PROTOCOL_VERSION,
      address: "127.0.0.1:4000",
    });
    assert.equal(await a.locate("nobody"), undefined);
    const secrets = await Promise.all(brokers.map((broker) => broker.secret()));
    assert.equal(secrets[0]?.length, 32);
    assert.deepEqual(secrets[1], secrets[0]);
    assert.deepEqual(secrets[2], secrets[0]);
  });

  it("declares a closed node down on the next read, and a frozen one after the heartbeat timeout", async (t) => {
    if (!up) return missing(t, "Redis at 127.0.0.1:6379");
    const { brokers } = await cluster(t, 3);
    const [a, b, c] = brokers as [RedisBroker, RedisBroker, RedisBroker];
    while (a.members().size < 3) await next(a, "node-up");
    const downs: string[] = [];
    a.on("node-down", (tag) => downs.push(tag));
    const bDown = next(a, "node-down", (tag) => tag === b.tag);
    await b.close();
    await bDown;
    assert.equal(a.members().has(b.tag), false);
    // c stops beating without leaving: a crash
    const cDown = next(a, "node-down", (tag) => tag === c.tag);
    await c.close({ deregister: false });
    await cDown;
    assert.deepEqual(downs, [b.tag, c.tag]);
    assert.deepEqual([...a.members().keys()], [a.tag]);
    assert.equal(await a.locate(b.tag), undefined);
  });
});

describe("RedisBroker publish script", () => {
  it("answers a resent publish (same instance and counter) from its record instead of storing it twice", async (t) => {
    if (!up) return missing(t, "Redis at 127.0.0.1:6379");
    const key = randomPrefix();
    const client = new Redis({ host: "127.0.0.1", port: 6379 });
    t.after(async () => {
      await deleteKeys(client, key);
      client.disconnect();
    });
    const commands = new Commands(client);
    const keys = new Keys(key).namespace("/");
    const publish = (instance: string, counter: number) =>
      commands.publish(
        [keys.meta, keys.publisher("node01"), keys.room("r")],
        ["", "Epoch123", 1000, 60_000, instance, counter, "PUBLISH", Buffer.from([1]), keys.roomChannel("r")],
      );
    const first = await publish("i1", 1);
    const again = await publish("i1", 1);
    const second = await publish("i1", 2);
    const otherInstance = await publish("i2", 1); // a new node that reuses the tag starts over
    assert.deepEqual(
      [first, again, second, otherInstance].map((r) => [r.epoch, r.seq, r.resent]),
      [
        ["Epoch123", 1, false],
        ["Epoch123", 1, true],
        ["Epoch123", 2, false],
        ["Epoch123", 3, false],
      ],
    );
    assert.equal(await client.xlen(keys.room("r")), 3);
  });
});
