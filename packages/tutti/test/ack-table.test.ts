/**
 * The ack table alone, for what the in-memory adapter never does: counts reported by several
 * nodes at different times (a cluster adapter's `clientCountCallback`), callbacks an adapter
 * registers itself, and the bookkeeping at the limit.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AckTable } from "../src/server/ack-table.js";
import { FakeClock } from "../src/testing/index.js";

function outcomes() {
  const calls: [Error | null, unknown[]][] = [];
  return { calls, outcome: (err: Error | null, responses: unknown[]) => calls.push([err, [...responses]]) };
}

describe("AckTable", () => {
  test("a broadcast's expected count grows as nodes report; it ends once every node reported and every client answered", () => {
    const clock = new FakeClock();
    const table = new AckTable(10, () => clock);
    const done = outcomes();
    const request = table.broadcast(done.outcome, 1000);
    const id = table.nextId();
    assert.equal(table.expect("a", id, request.onResponse), true);
    request.onClientCount(1); // this node asked one socket
    request.setServerCount(2);
    table.answer("a", id, ["from a"]);
    assert.equal(done.calls.length, 0, "the other node has not reported yet");
    request.onClientCount(2); // the other node, later: two of its sockets
    request.onResponse("remote 1");
    assert.equal(done.calls.length, 0);
    request.onResponse("remote 2");
    assert.deepEqual(done.calls, [[null, ["from a", "remote 1", "remote 2"]]]);
    assert.equal(table.size, 0);
    assert.equal(clock.pending, 0, "the timer is cleared");
  });

  test("a broadcast's timeout gives the responses that came and forgets the recipients that did not answer", () => {
    const clock = new FakeClock();
    const table = new AckTable(10, () => clock);
    const done = outcomes();
    const request = table.broadcast(done.outcome, 500);
    const id = table.nextId();
    for (const socket of ["a", "b", "c"]) table.expect(socket, id, request.onResponse);
    request.onClientCount(3);
    request.setServerCount(1);
    table.answer("b", id, ["b"]);
    clock.advance(500);
    assert.equal(done.calls.length, 1);
    assert.equal(done.calls[0]?.[0]?.message, "operation has timed out");
    assert.deepEqual(done.calls[0]?.[1], ["b"]);
    assert.equal(table.pending("a"), 0);
    assert.equal(table.pending("c"), 0);
    assert.equal(table.size, 0);
    table.answer("a", id, ["late"]);
    assert.equal(done.calls.length, 1);
  });

  test("at the limit a broadcast errs on the next tick with ACK_LIMIT_EXCEEDED; recipients asked meanwhile are released too", async () => {
    const clock = new FakeClock();
    const table = new AckTable(1, () => clock);
    const single: [Error | null, readonly unknown[]][] = [];
    const fullId = table.expectOne("full", (err, args) => single.push([err, args]), undefined);
    assert.notEqual(fullId, undefined);
    const done = outcomes();
    const request = table.broadcast(done.outcome, undefined);
    const id = table.nextId();
    assert.equal(table.expect("a", id, request.onResponse), true);
    assert.equal(table.expect("full", id, request.onResponse), false);
    assert.equal(table.expect("b", id, request.onResponse), true, "the others are still sent the packet");
    assert.equal(done.calls.length, 0, "not from inside the emit");
    await new Promise((resolve) => process.nextTick(resolve));
    assert.equal(done.calls.length, 1);
    const [err, responses] = done.calls[0] ?? [];
    assert.equal((err as { code?: string }).code, "ACK_LIMIT_EXCEEDED");
    assert.equal(err?.message, "operation has timed out");
    assert.deepEqual(responses, []);
    assert.equal(table.pending("a") + table.pending("b"), 0);
    assert.equal(table.pending("full"), 1);
    assert.equal(table.expect("c", id, request.onResponse), false, "an ended broadcast asks no one");
    table.answer("full", fullId as number, ["ok"]);
    assert.deepEqual(single, [[null, ["ok"]]]);
    assert.equal(table.size, 0);
  });

  test("callbacks an adapter registers count against the limit, get the client's arguments, and go on cancel and drop", () => {
    const table = new AckTable(2, () => new FakeClock());
    const got: unknown[][] = [];
    assert.equal(
      table.expect("s", 7, (...args) => got.push(args)),
      true,
    );
    assert.equal(
      table.expect("s", 8, () => assert.fail("cancelled")),
      true,
    );
    assert.equal(
      table.expect("s", 9, () => assert.fail("over the limit")),
      false,
    );
    assert.equal(table.awaits("s", 9), false);
    table.answer("s", 7, [1, 2]);
    assert.deepEqual(got, [[1, 2]]);
    table.cancel("s", 8);
    assert.equal(table.size, 0);
    table.expect("s", 10, () => assert.fail("dropped"));
    table.drop("s");
    table.answer("s", 10, []);
    assert.equal(table.size, 0);
  });
});
