import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { PacketQueue } from "../src/engine/packet-queue.js";
import type { QueuedPacket } from "../src/engine/transport.js";

const item = (i: number, size: number): QueuedPacket => ({
  packet: { type: "message", data: String(i) },
  size,
  compress: false,
});

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

describe("PacketQueue", () => {
  test("a turn's few packets come back as one batch, the queue's own array", () => {
    const q = new PacketQueue();
    for (let i = 0; i < 3; i++) q.push(item(i, 10));
    assert.equal(q.bytes, 30);
    const batch = q.take(64 * 1024);
    assert.deepEqual(
      batch.map((x) => x.packet.data),
      ["0", "1", "2"],
    );
    assert.equal(q.length, 0);
    assert.equal(q.bytes, 0);
  });

  test("a packet larger than the batch still goes, alone", () => {
    const q = new PacketQueue();
    q.push(item(0, 100));
    q.push(item(1, 1));
    assert.deepEqual(
      q.take(10).map((x) => x.packet.data),
      ["0"],
    );
    assert.deepEqual(
      q.take(10).map((x) => x.packet.data),
      ["1"],
    );
  });

  for (const seed of [1, 2, 3, 4, 5]) {
    test(`first in, first out across chunks, with the byte count exact (seed ${seed})`, () => {
      const next = random(seed);
      const q = new PacketQueue();
      let pushed = 0;
      let taken = 0;
      let bytes = 0;
      for (let step = 0; step < 400; step++) {
        const pushes = Math.floor(next() * 3000);
        for (let i = 0; i < pushes; i++) {
          const size = 1 + Math.floor(next() * 2000);
          q.push(item(pushed++, size));
          bytes += size;
        }
        const limit = Math.floor(next() * 200_000);
        const batch = q.take(limit);
        if (q.length + batch.length > 0) assert.ok(batch.length >= 1, "at least one packet");
        const batchBytes = batch.reduce((n, x) => n + x.size, 0);
        if (batch.length > 1) assert.ok(batchBytes <= limit, "a batch of several fits the limit");
        if (next() < 0.1) {
          q.restore(batch);
        } else {
          for (const x of batch) assert.equal(x.packet.data, String(taken++));
          bytes -= batchBytes;
        }
        assert.equal(q.bytes, bytes);
        assert.equal(q.length, pushed - taken);
      }
      while (q.length > 0) for (const x of q.take(1 << 20)) assert.equal(x.packet.data, String(taken++));
      assert.equal(taken, pushed);
      assert.equal(q.bytes, 0);
    });
  }

  test("clear empties it", () => {
    const q = new PacketQueue();
    for (let i = 0; i < 5000; i++) q.push(item(i, 3));
    q.clear();
    assert.equal(q.length, 0);
    assert.equal(q.bytes, 0);
    q.push(item(7, 1));
    assert.deepEqual(
      q.take(10).map((x) => x.packet.data),
      ["7"],
    );
  });
});
