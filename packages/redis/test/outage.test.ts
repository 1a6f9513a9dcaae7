import assert from "node:assert/strict";
import { after, before, describe, it, type TestContext } from "node:test";
import { Redis } from "ioredis";
import type { Position, StoredMessage } from "tutti";
import { FakeClock } from "tutti/testing";
import { createRedisBroker, type RedisBrokerOptions } from "../src/index.js";
import { have, missing, next, OwnRedis, RecordingFeed } from "./helpers.js";

// Redis going away and coming back, on a redis-server of this file's own (no persistence, so a
// restart loses everything and gets a new run_id).

let server: OwnRedis | undefined;
before(async () => {
  if (await have("redis-server")) server = await OwnRedis.start();
});
after(async () => {
  await server?.destroy();
});

function message(event: string, rooms: string[] = []): StoredMessage {
  return { rooms, except: [], compress: true, data: [event] };
}

/** A broker on its own client, which retries every 50 ms; its errors are collected. */
async function broker(t: TestContext, own: OwnRedis, options: RedisBrokerOptions = {}) {
  const client = new Redis({ host: "127.0.0.1", port: own.port, retryStrategy: () => 50 });
  client.on("error", () => {});
  const made = createRedisBroker(client, {
    heartbeatInterval: 100,
    heartbeatTimeout: 400,
    membersInterval: 50,
    ...options,
  });
  const errors: Error[] = [];
  made.on("error", (error) => errors.push(error));
  t.after(async () => {
    await made.close();
    client.disconnect();
  });
  await made.ready();
  const feed = new RecordingFeed();
  const link = made.namespace("/", feed);
  return { broker: made, client, feed, link, errors };
}

async function down(own: OwnRedis, ...clients: Redis[]): Promise<void> {
  const closed = clients.map((client) => next(client, "close"));
  await own.stop();
  await Promise.all(closed);
}

/** Settles every promise, as `[position or undefined, error or undefined]`. */
function outcomes(promises: Promise<Position>[]) {
  return Promise.all(
    promises.map((p) =>
      p.then(
        (position) => [position, undefined] as const,
        (error: Error) => [undefined, error] as const,
      ),
    ),
  );
}

describe("RedisBroker when Redis goes away", () => {
  it("queues publishes while Redis is down and sends them in order once it is back; the feed learns history was lost", async (t) => {
    if (server === undefined) return missing(t, "redis-server");
    const own = server;
    const a = await broker(t, own);
    const b = await broker(t, own);
    await a.link.subscribe(["r"]);
    await b.link.subscribe(["r"]);
    const before = await a.link.publish(message("before", ["r"]));
    await b.feed.until(() => b.feed.events().includes("before"));

    await down(own, a.client, b.client);
    const queued = ["q1", "q2", "q3", "q4", "q5"].map((event) => a.link.publish(message(event, ["r"])));
    a.link.broadcast({ t: "lost while down" });
    await own.restart();

    const positions = await Promise.all(queued);
    // a restart without persistence lost the history: a new epoch, seqs from 1, in call order
    assert.notEqual(positions[0]?.epoch, before.epoch);
    assert.deepEqual(
      positions.map((p) => [p.epoch, p.seq]),
      [1, 2, 3, 4, 5].map((seq) => [positions[0]?.epoch, seq]),
    );
    const admin = new Redis({ host: "127.0.0.1", port: own.port });
    t.after(() => admin.disconnect());
    const stream = await admin.xrange(`tutti:{%2F}:r:r`, "-", "+");
    assert.deepEqual(
      stream.map(([id]) => id),
      ["1-0", "2-0", "3-0", "4-0", "5-0"],
    );

    // b's subscriber came back: it is told the feed had a gap that history cannot fill
    await b.feed.until(() => b.feed.lost.length > 0);
    assert.deepEqual(b.feed.lost, [false]);
    assert.ok(b.errors.some((error) => /subscriber connection was lost/.test(error.message)));
    await a.feed.until(() => a.feed.lost.length > 0);
    assert.deepEqual(a.feed.lost, [false]);
    // and it is live again
    await a.link.publish(message("after", ["r"]));
    await b.feed.until(() => b.feed.events().includes("after"));
    assert.equal(b.feed.messages.length, 0, "an ephemeral message sent while Redis was down is dropped");
    assert.equal(a.errors.filter((error) => /publish/.test(error.message)).length, 0, "no publish was dropped");
  });

  it("tells the feed history is intact when only the subscriber connection dropped", async (t) => {
    if (server === undefined) return missing(t, "redis-server");
    const own = server;
    const a = await broker(t, own);
    const b = await broker(t, own);
    await b.link.subscribe(["r"]);
    await a.link.publish(message("1", ["r"]));
    await b.feed.until(() => b.feed.events().includes("1"));
    const admin = new Redis({ host: "127.0.0.1", port: own.port });
    t.after(() => admin.disconnect());
    await admin.call("CLIENT", "KILL", "TYPE", "pubsub");
    await b.feed.until(() => b.feed.lost.length > 0);
    assert.deepEqual(b.feed.lost, [true]);
    await a.link.publish(message("2", ["r"]));
    await b.feed.until(() => b.feed.events().includes("2"));
    assert.deepEqual(b.feed.events(), ["1", "2"]);
  });

  it("rejects publishes past the queue's message bound, with an error, and sends the rest when Redis is back", async (t) => {
    if (server === undefined) return missing(t, "redis-server");
    const own = server;
    const a = await broker(t, own, { publishQueue: { messages: 3, ms: 60_000 } });
    await a.link.subscribe(["r"]);
    await down(own, a.client);
    const results = outcomes(["1", "2", "3", "4", "5"].map((event) => a.link.publish(message(event, ["r"]))));
    await own.restart();
    const settled = await results;
    assert.deepEqual(
      settled.map(([position]) => position?.seq),
      [1, 2, 3, undefined, undefined],
    );
    for (const [, error] of settled.slice(3)) assert.match(error?.message ?? "", /publish queue is full \(3 of 3/);
    assert.equal(a.errors.filter((error) => /publish queue is full/.test(error.message)).length, 2);
    await a.feed.until(() => a.feed.events().length === 3 || a.feed.lost.length > 0);
  });

  it("rejects publishes that waited longer than the queue's time bound, with one error giving the count", async (t) => {
    if (server === undefined) return missing(t, "redis-server");
    const own = server;
    const clock = new FakeClock();
    const a = await broker(t, own, { clock, publishQueue: { messages: 100, ms: 5000 } });
    await down(own, a.client);
    const results = outcomes([a.link.publish(message("1")), a.link.publish(message("2"))]);
    clock.advance(4999);
    const late = outcomes([a.link.publish(message("3"))]);
    clock.advance(1);
    const settled = await results;
    for (const [position, error] of settled) {
      assert.equal(position, undefined);
      assert.match(error?.message ?? "", /unreachable for longer than the publish queue's 5000 ms/);
    }
    assert.deepEqual(
      a.errors.map((error) => error.message).filter((m) => /dropped/.test(m)),
      ["@tutti/redis: 2 publishes dropped after waiting 5000 ms for Redis (1 still queued)"],
    );
    clock.advance(5000);
    const [[, lateError]] = (await late) as [[undefined, Error | undefined]];
    assert.match(lateError?.message ?? "", /5000 ms/);
    await own.restart();
  });
});
