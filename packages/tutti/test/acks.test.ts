/**
 * The ack table through the official client: the per-socket limit on every kind of ack
 * (a socket's emits and broadcasts), what a caller gets at the limit, and that entries are
 * freed on answer, on timeout and on disconnect. Timeouts run on a fake clock: no sleeping.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Socket as ClientSocket } from "socket.io-client";
import { type Socket, TuttiError } from "../src/index.js";
import { FakeClock } from "../src/testing/index.js";
import { until } from "./helpers.js";
import { connected, type RunningIo, startIo, waitFor } from "./sio-helpers.js";

function isLimitError(err: unknown): boolean {
  return err instanceof TuttiError && err.code === "ACK_LIMIT_EXCEEDED" && err.message === "operation has timed out";
}

function isTimeoutError(err: unknown): boolean {
  return err instanceof Error && !(err instanceof TuttiError) && err.message === "operation has timed out";
}

/** A connected official client whose "x" handler never calls its ack, and its server socket. */
async function silentClient(s: RunningIo): Promise<{ client: ClientSocket; socket: Socket; received: () => number }> {
  const joined = waitFor<[Socket]>(s.io, "connection");
  const client = s.client();
  let count = 0;
  client.on("x", () => {
    count++; // the ack is never called
  });
  const [socket] = await joined;
  await connected(client);
  return { client, socket, received: () => count };
}

/** Resolves once the client has received the plain "end" event: everything emitted before it has arrived. */
function endMarker(client: ClientSocket): Promise<unknown[]> {
  return waitFor<unknown[]>(client, "end");
}

/** Collects callback calls; `settled(n)` resolves once `n` have come. */
function collector() {
  const calls: unknown[][] = [];
  let waiters: { n: number; resolve: () => void }[] = [];
  return {
    calls,
    callback: (...args: unknown[]): void => {
      calls.push(args);
      waiters = waiters.filter((w) => {
        if (calls.length < w.n) return true;
        w.resolve();
        return false;
      });
    },
    settled(n: number): Promise<void> {
      if (calls.length >= n) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
  };
}

describe("maxPendingAcks covers broadcasts (issue: 500 io.emit with an ack to a client that never answers)", () => {
  for (const withTimeout of [false, true]) {
    test(`limit 2, 500 io${withTimeout ? ".timeout(1000)" : ""}.emit("x", cb): 2 pending, 498 callbacks err at once`, async () => {
      const clock = new FakeClock();
      const s = await startIo({ maxPendingAcks: 2, clock });
      try {
        const { client, socket, received } = await silentClient(s);
        const done = collector();
        const io = withTimeout ? s.io.timeout(1000) : s.io;
        for (let i = 0; i < 500; i++) io.emit("x", done.callback);
        assert.equal(socket.pendingAcks, 2);
        assert.equal(done.calls.length, 0, "never called from inside emit()");
        // no time passes on the fake clock: these errors are the limit's, not a timeout's
        await done.settled(498);
        assert.equal(done.calls.length, 498);
        for (const [err, responses] of done.calls) {
          assert.ok(isLimitError(err), String(err));
          assert.deepEqual(responses, []);
        }
        assert.equal(socket.pendingAcks, 2);
        const end = endMarker(client);
        s.io.emit("end");
        await end;
        assert.equal(received(), 2, "a socket at its limit is not sent the event");
        if (withTimeout) {
          clock.advance(1000);
          assert.equal(done.calls.length, 500);
          for (const [err, responses] of done.calls.slice(498)) {
            assert.ok(isTimeoutError(err), String(err));
            assert.deepEqual(responses, []);
          }
          assert.equal(socket.pendingAcks, 0);
          assert.equal(s.io.ackTable.size, 0);
        }
      } finally {
        await s.close();
      }
    });
  }

  test("io.emitWithAck at the limit rejects at once with ACK_LIMIT_EXCEEDED and no responses", async () => {
    const s = await startIo({ maxPendingAcks: 1, clock: new FakeClock() });
    try {
      const { socket } = await silentClient(s);
      void s.io.timeout(1000).emitWithAck("x");
      assert.equal(socket.pendingAcks, 1);
      await assert.rejects(s.io.timeout(1000).emitWithAck("x"), (err: unknown) => {
        assert.ok(isLimitError(err));
        assert.deepEqual((err as { responses?: unknown }).responses, []);
        return true;
      });
    } finally {
      await s.close();
    }
  });

  test("a broadcast where one recipient is at its limit: it is skipped, the others get the event, the callback errs at once", async () => {
    const s = await startIo({ maxPendingAcks: 1, clock: new FakeClock() });
    try {
      const stuck = await silentClient(s);
      const joined = waitFor<[Socket]>(s.io, "connection");
      const answering = s.client();
      const answered = new Promise<void>((resolve) =>
        answering.on("x", (ack: (v: string) => void) => {
          ack("late");
          resolve();
        }),
      );
      const [answeringSocket] = await joined;
      await connected(answering);
      stuck.socket.emit("x", () => assert.fail("never answered")); // its one ack: at the limit now
      const done = collector();
      s.io.timeout(1000).emit("x", done.callback);
      assert.equal(answeringSocket.pendingAcks, 1);
      await done.settled(1);
      const [err, responses] = done.calls[0] ?? [];
      assert.ok(isLimitError(err), String(err));
      assert.deepEqual(responses, []);
      // the broadcast has ended: the other recipient's entry is gone, its answer is ignored
      assert.equal(answeringSocket.pendingAcks, 0);
      await answered;
      const end = endMarker(stuck.client);
      s.io.emit("end");
      await end;
      assert.equal(stuck.received(), 1, "the socket at its limit got only the first event");
      assert.equal(done.calls.length, 1);
      assert.equal(stuck.socket.pendingAcks, 1);
    } finally {
      await s.close();
    }
  });

  test("a socket's own emits and the broadcasts it receives count against one limit", async () => {
    const s = await startIo({ maxPendingAcks: 2, clock: new FakeClock() });
    try {
      const { client, socket, received } = await silentClient(s);
      socket.emit("x", () => undefined);
      s.io.emit("x", () => undefined);
      assert.equal(socket.pendingAcks, 2);
      const single = collector();
      socket.emit("x", single.callback);
      socket.timeout(500).emit("x", single.callback);
      await single.settled(2);
      for (const [err] of single.calls) assert.ok(isLimitError(err), String(err));
      await assert.rejects(socket.emitWithAck("x"), isLimitError);
      await assert.rejects(socket.timeout(500).emitWithAck("x"), isLimitError);
      const end = endMarker(client);
      socket.emit("end"); // an emit without an ack is not limited
      await end;
      assert.equal(received(), 2);
    } finally {
      await s.close();
    }
  });
});

describe("the ack table frees its entries", () => {
  test("on answer: single and broadcast acks, the callbacks get the answers", async () => {
    const s = await startIo({ clock: new FakeClock() });
    try {
      const joined = waitFor<[Socket]>(s.io, "connection");
      const client = s.client();
      client.on("x", (n: number, ack: (v: number) => void) => ack(n * 2));
      const [socket] = await joined;
      await connected(client);
      const plain = new Promise<unknown[]>((resolve) => socket.emit("x", 1, (...args: unknown[]) => resolve(args)));
      const timed = new Promise<unknown[]>((resolve) =>
        socket.timeout(1000).emit("x", 2, (...args: unknown[]) => resolve(args)),
      );
      const broadcast = new Promise<unknown[]>((resolve) =>
        s.io.timeout(1000).emit("x", 3, (...args: unknown[]) => resolve(args)),
      );
      assert.equal(socket.pendingAcks, 3);
      assert.deepEqual(await plain, [2]);
      assert.deepEqual(await timed, [null, 4]);
      assert.deepEqual(await broadcast, [null, [6]]);
      assert.equal(await socket.emitWithAck("x", 4), 8);
      assert.deepEqual(await s.io.emitWithAck("x", 5), [10]);
      assert.equal(socket.pendingAcks, 0);
      assert.equal(s.io.ackTable.size, 0);
    } finally {
      await s.close();
    }
  });

  test("on timeout: the callback gets the timeout error when the clock reaches it, not before; a late answer is ignored", async () => {
    const clock = new FakeClock();
    const s = await startIo({ clock });
    try {
      const joined = waitFor<[Socket]>(s.io, "connection");
      const client = s.client();
      const acks: ((v: string) => void)[] = [];
      const asked = collector();
      client.on("x", (ack: (v: string) => void) => {
        acks.push(ack);
        asked.callback();
      });
      const [socket] = await joined;
      await connected(client);
      // the engine's own timers (heartbeat) run on this clock too: count only what the acks add
      const engineTimers = clock.pending;
      const single = collector();
      const broadcast = collector();
      socket.timeout(5000).emit("x", single.callback);
      s.io.timeout(5000).emit("x", broadcast.callback);
      const rejected = assert.rejects(socket.timeout(5000).emitWithAck("x"), isTimeoutError);
      await asked.settled(3);
      assert.equal(socket.pendingAcks, 3);
      clock.advance(4999);
      assert.equal(single.calls.length + broadcast.calls.length, 0);
      clock.advance(1);
      assert.equal(single.calls.length, 1);
      assert.ok(isTimeoutError(single.calls[0]?.[0]));
      assert.equal(broadcast.calls.length, 1);
      assert.ok(isTimeoutError(broadcast.calls[0]?.[0]));
      assert.deepEqual(broadcast.calls[0]?.[1], []);
      await rejected;
      assert.equal(socket.pendingAcks, 0);
      assert.equal(s.io.ackTable.size, 0);
      assert.equal(clock.pending, engineTimers, "no ack timer left behind");
      // answers after the timeout are ignored: no second call. The client sends them before it
      // answers the next emit, so once that answer is in, they have been handled.
      for (const ack of acks) ack("late");
      const fresh = socket.emitWithAck("x");
      await asked.settled(4);
      acks[3]?.("fresh");
      assert.equal(await fresh, "fresh");
      assert.equal(single.calls.length, 1);
      assert.equal(broadcast.calls.length, 1);
    } finally {
      await s.close();
    }
  });

  test("on disconnect: entries go at once; as socket.io, an ack with a timeout still errs at its timeout and one without is never called", async () => {
    const clock = new FakeClock();
    const s = await startIo({ clock });
    try {
      const { client, socket } = await silentClient(s);
      const engineTimers = clock.pending;
      const plain = collector();
      const timed = collector();
      const broadcast = collector();
      const plainBroadcast = collector();
      socket.emit("x", plain.callback);
      socket.timeout(1000).emit("x", timed.callback);
      s.io.timeout(1000).emit("x", broadcast.callback);
      s.io.emit("x", plainBroadcast.callback);
      assert.equal(socket.pendingAcks, 4);
      const gone = waitFor(socket, "disconnect");
      client.disconnect();
      await gone;
      assert.equal(socket.pendingAcks, 0);
      assert.equal(s.io.ackTable.size, 0);
      assert.equal(timed.calls.length + broadcast.calls.length, 0, "not called at disconnect");
      clock.advance(1000);
      assert.ok(isTimeoutError(timed.calls[0]?.[0]));
      assert.ok(isTimeoutError(broadcast.calls[0]?.[0]));
      assert.deepEqual(broadcast.calls[0]?.[1], []);
      assert.equal(plain.calls.length + plainBroadcast.calls.length, 0);
      assert.ok(clock.pending <= engineTimers, "no ack timer left behind");
      // an emit with an ack on the disconnected socket registers nothing
      const after = collector();
      socket.timeout(10).emit("x", after.callback);
      socket.emit("x", after.callback);
      assert.equal(s.io.ackTable.size, 0);
      clock.advance(10);
      assert.equal(after.calls.length, 1);
      assert.ok(isTimeoutError(after.calls[0]?.[0]));
    } finally {
      await s.close();
    }
  });

  test("a socket refused by a middleware after an emit with an ack leaves no entry", async () => {
    const s = await startIo({ clock: new FakeClock() });
    try {
      let during = -1;
      s.io.use((socket, next) => {
        socket.emit("x", () => undefined);
        during = s.io.ackTable.size;
        next(new Error("no"));
      });
      const client = s.client();
      await assert.rejects(connected(client), /no/);
      assert.equal(during, 1);
      await until(() => s.io.ackTable.size === 0, "the refused socket's ack dropped");
    } finally {
      await s.close();
    }
  });
});

describe("socket.connected during the namespace middlewares", () => {
  test("false (disconnected true) while the middlewares run, true in connection, false again after disconnect", async () => {
    const s = await startIo();
    try {
      const seen: string[] = [];
      const record = (where: string, socket: Socket): void => {
        seen.push(`${where}: connected=${socket.connected} disconnected=${socket.disconnected}`);
      };
      s.io.use((socket, next) => {
        record("middleware", socket);
        setImmediate(() => {
          record("async middleware", socket);
          next();
        });
      });
      const disconnected = new Promise<void>((resolve) => {
        s.io.on("connection", (socket) => {
          record("connection", socket);
          socket.on("disconnecting", () => record("disconnecting", socket));
          socket.on("disconnect", () => {
            record("disconnect", socket);
            resolve();
          });
        });
      });
      const client = s.client();
      await connected(client);
      client.disconnect();
      await disconnected;
      assert.deepEqual(seen, [
        "middleware: connected=false disconnected=true",
        "async middleware: connected=false disconnected=true",
        "connection: connected=true disconnected=false",
        "disconnecting: connected=true disconnected=false",
        "disconnect: connected=false disconnected=true",
      ]);
    } finally {
      await s.close();
    }
  });

  test("a socket refused by a middleware is never connected", async () => {
    const s = await startIo();
    try {
      let refused: Socket | undefined;
      s.io.use((socket, next) => {
        refused = socket;
        next(new Error("refused"));
      });
      await assert.rejects(connected(s.client()), /refused/);
      assert.equal(refused?.connected, false);
      assert.equal(refused?.disconnected, true);
    } finally {
      await s.close();
    }
  });
});
