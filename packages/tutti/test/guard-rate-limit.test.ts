/**
 * The `rateLimit` guard through the official client, on a fake clock (no sleeping): what the app
 * sees (which handlers ran, the disconnect reason) and what the client sees (acks, the
 * tutti:disconnect event, "io server disconnect").
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type Socket as ClientSocket, Manager } from "socket.io-client";
import {
  GuardEvents,
  RATE_LIMIT_DEFAULTS,
  type RateLimitOptions,
  rateLimit,
  type Socket as ServerSocket,
  TuttiError,
} from "../src/index.js";
import { FakeClock } from "../src/testing/index.js";
import { cleanupsAfterEach, next } from "./guard-helpers.js";
import { connected, type RunningIo, startIo } from "./sio-helpers.js";

const cleanups = cleanupsAfterEach();

interface App {
  s: RunningIo;
  clock: { now: number };
  /** Handlers that ran: "event:arg". */
  handled: string[];
  reasons: string[];
}

/** A server with `rateLimit(options)` on a fake clock; every event is answered with "ok:<arg>". */
async function start(options: RateLimitOptions): Promise<App> {
  const s = await startIo();
  cleanups.push(() => s.close());
  const clock = { now: 0 };
  const handled: string[] = [];
  const reasons: string[] = [];
  s.io.use(rateLimit({ ...options, now: () => clock.now }));
  s.io.on("connection", (socket) => {
    socket.on("disconnect", (reason) => reasons.push(reason));
    socket.onAny(() => {}); // onAny sees every event, refused or not: it must not change the outcome
    for (const name of ["chat", "move", "sync"]) {
      socket.on(name, (arg: unknown, ack?: (v: string) => void) => {
        handled.push(`${name}:${String(arg)}`);
        if (typeof ack === "function") ack(`ok:${String(arg)}`);
      });
    }
  });
  return { s, clock, handled, reasons };
}

async function connect(app: App): Promise<{ client: ClientSocket; server: ServerSocket }> {
  const serverSide = next<[ServerSocket]>(app.s.io, "connection");
  const client = app.s.client("/");
  const [, [server]] = await Promise.all([connected(client), serverSide]);
  return { client, server };
}

function send(client: ClientSocket, event: string, arg: unknown): Promise<unknown> {
  return client.timeout(5000).emitWithAck(event, arg);
}

describe("rateLimit", () => {
  test("per socket: past the burst the handler does not run and the ack gets RATE_LIMITED with retryAfterMs", async () => {
    const app = await start({ perSocket: { burst: 3, perSecond: 2 }, disconnectAfter: false });
    const { client } = await connect(app);
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await send(client, i % 2 ? "chat" : "move", i));
    assert.deepEqual(answers.slice(0, 3), ["ok:0", "ok:1", "ok:2"]);
    assert.deepEqual(answers[3], { code: "RATE_LIMITED", message: "Rate limit exceeded", retryAfterMs: 500 });
    assert.deepEqual(answers[4], { code: "RATE_LIMITED", message: "Rate limit exceeded", retryAfterMs: 500 });
    assert.deepEqual(app.handled, ["move:0", "chat:1", "move:2"]);

    app.clock.now += 500; // one token back
    assert.equal(await send(client, "chat", 5), "ok:5");
    assert.deepEqual(await send(client, "chat", 6), {
      code: "RATE_LIMITED",
      message: "Rate limit exceeded",
      retryAfterMs: 500,
    });
    app.clock.now += 60_000; // never more than the burst
    for (let i = 0; i < 3; i++) assert.equal(await send(client, "chat", 10 + i), `ok:${10 + i}`);
    assert.equal(((await send(client, "chat", 13)) as { code: string }).code, "RATE_LIMITED");
  });

  test("without `now`, the buckets keep the server's clock (its `clock` option)", async () => {
    const clock = new FakeClock();
    const s = await startIo({ clock });
    cleanups.push(() => s.close());
    s.io.use(rateLimit({ perSocket: { burst: 1, perSecond: 2 }, disconnectAfter: false }));
    s.io.on("connection", (socket) => socket.on("chat", (arg: unknown, ack: (v: string) => void) => ack(`ok:${arg}`)));
    const client = s.client("/");
    await connected(client);
    assert.equal(await send(client, "chat", 1), "ok:1");
    assert.deepEqual(await send(client, "chat", 2), {
      code: "RATE_LIMITED",
      message: "Rate limit exceeded",
      retryAfterMs: 500,
    });
    clock.advance(499);
    assert.equal(((await send(client, "chat", 3)) as { code: string }).code, "RATE_LIMITED");
    clock.advance(1);
    assert.equal(await send(client, "chat", 4), "ok:4");
  });

  test("each socket has its own buckets", async () => {
    const app = await start({ perSocket: { burst: 1, perSecond: 1 }, disconnectAfter: false });
    const a = await connect(app);
    const b = await connect(app);
    assert.equal(await send(a.client, "chat", "a1"), "ok:a1");
    assert.equal(((await send(a.client, "chat", "a2")) as { code: string }).code, "RATE_LIMITED");
    assert.equal(await send(b.client, "chat", "b1"), "ok:b1");
  });

  test("per event: a bucket per event name, on top of the socket's", async () => {
    const app = await start({
      perSocket: { burst: 4, perSecond: 1 },
      perEvent: { chat: { burst: 2, perSecond: 1 } },
      disconnectAfter: false,
    });
    const { client } = await connect(app);
    assert.equal(await send(client, "chat", 1), "ok:1");
    assert.equal(await send(client, "chat", 2), "ok:2");
    assert.deepEqual(await send(client, "chat", 3), {
      code: "RATE_LIMITED",
      message: "Rate limit exceeded",
      retryAfterMs: 1000,
    });
    // other events still have the socket's bucket (a refused chat took none of its tokens)
    assert.equal(await send(client, "move", 4), "ok:4");
    assert.equal(await send(client, "move", 5), "ok:5");
    assert.equal(((await send(client, "move", 6)) as { code: string }).code, "RATE_LIMITED");
    assert.deepEqual(app.handled, ["chat:1", "chat:2", "move:4", "move:5"]);
  });

  test("perSocket: false limits only the named events", async () => {
    const app = await start({
      perSocket: false,
      perEvent: { chat: { burst: 1, perSecond: 1 } },
      disconnectAfter: false,
    });
    const { client } = await connect(app);
    for (let i = 0; i < 100; i++) client.emit("move", i);
    assert.equal(await send(client, "chat", "x"), "ok:x");
    assert.equal(((await send(client, "chat", "y")) as { code: string }).code, "RATE_LIMITED");
    assert.equal(app.handled.filter((h) => h.startsWith("move:")).length, 100);
  });

  test("without an ack the refusal is silent, and the handler still does not run", async () => {
    const app = await start({
      perSocket: false,
      perEvent: { chat: { burst: 1, perSecond: 1 } },
      disconnectAfter: false,
    });
    const { client } = await connect(app);
    client.emit("chat", "first");
    client.emit("chat", "second");
    assert.equal(await send(client, "sync", 0), "ok:0"); // in order: both chats were handled or refused before
    assert.deepEqual(app.handled, ["chat:first", "sync:0"]);
  });

  test("repeated excess disconnects: tutti:disconnect RATE_LIMITED, 'io server disconnect', reason 'rate limited'", async () => {
    const app = await start({ perSocket: { burst: 1, perSecond: 1 }, disconnectAfter: 3, disconnectWindowMs: 1000 });
    const { client } = await connect(app);
    const told = next<[unknown]>(client, GuardEvents.DISCONNECT);
    const gone = next<[string]>(client, "disconnect");
    assert.equal(await send(client, "chat", 0), "ok:0");
    assert.equal(((await send(client, "chat", 1)) as { code: string }).code, "RATE_LIMITED");
    assert.equal(((await send(client, "chat", 2)) as { code: string }).code, "RATE_LIMITED");
    assert.ok(client.connected);
    client.emit("chat", 3); // the third refusal in the window
    assert.deepEqual((await told)[0], { code: "RATE_LIMITED", message: "Rate limit exceeded" });
    assert.equal((await gone)[0], "io server disconnect");
    assert.deepEqual(app.reasons, ["rate limited"]);
    assert.deepEqual(app.handled, ["chat:0"]);
  });

  test("the disconnect closes the whole connection: a new CONNECT on it cannot get a fresh bucket", async () => {
    const app = await start({ perSocket: { burst: 1, perSecond: 1 }, disconnectAfter: 2, disconnectWindowMs: 1000 });
    const otherReasons: string[] = [];
    app.s.io.of("/other").on("connection", (socket) => {
      socket.on("disconnect", (reason) => otherReasons.push(reason));
    });
    // two namespaces on one connection: the client keeps the connection open for "/other" when
    // "/" is disconnected, and "/" can then send a new CONNECT on it
    const manager = new Manager(app.s.url, { transports: ["websocket"], reconnection: false, forceNew: true });
    cleanups.push(() => manager.engine?.close());
    const serverSide = next<[ServerSocket]>(app.s.io, "connection");
    const client = manager.socket("/");
    const other = manager.socket("/other");
    const [, , [server]] = await Promise.all([connected(client), connected(other), serverSide]);
    const conn = server.conn;
    const closed = next<unknown[]>(conn, "close");
    const told = next<[unknown]>(client, GuardEvents.DISCONNECT);
    const gone = next<[string]>(client, "disconnect");
    const otherGone = next<[string]>(other, "disconnect");

    assert.equal(await send(client, "chat", 0), "ok:0");
    client.emit("chat", 1);
    client.emit("chat", 2); // the second refusal
    assert.deepEqual((await told)[0], { code: "RATE_LIMITED", message: "Rate limit exceeded" });
    assert.equal((await gone)[0], "io server disconnect");
    assert.equal((await otherGone)[0], "io server disconnect");
    await closed;
    assert.equal(conn.readyState, "closed");
    assert.deepEqual(app.reasons, ["rate limited"]); // the documented reason, for the app
    assert.deepEqual(otherReasons, ["server namespace disconnect"]);

    // coming back takes a new handshake (subject to the engine's handshakeRate)
    const again = next<[ServerSocket]>(app.s.io, "connection");
    client.connect();
    const [[fresh]] = await Promise.all([again, connected(client)]);
    assert.notEqual(fresh.conn.id, conn.id);
    assert.deepEqual(app.handled, ["chat:0"]);
  });

  test("a client that backs off is never disconnected: refusals drain over disconnectWindowMs", async () => {
    const app = await start({ perSocket: { burst: 1, perSecond: 1 }, disconnectAfter: 3, disconnectWindowMs: 1000 });
    const { client } = await connect(app);
    for (let round = 0; round < 5; round++) {
      assert.equal(await send(client, "chat", round), `ok:${round}`);
      assert.equal(((await send(client, "chat", "x")) as { code: string }).code, "RATE_LIMITED");
      assert.equal(((await send(client, "chat", "y")) as { code: string }).code, "RATE_LIMITED");
      app.clock.now += 1000; // the bucket refills; two refusals drain
    }
    assert.ok(client.connected);
    assert.deepEqual(app.reasons, []);
  });

  test("the defaults are finite: 50 events at once, then refusals, then a disconnect", async () => {
    assert.deepEqual(RATE_LIMIT_DEFAULTS, {
      perSocket: { burst: 50, perSecond: 20 },
      disconnectAfter: 100,
      disconnectWindowMs: 10_000,
    });
    const app = await start({});
    const { client } = await connect(app);
    const gone = next<[string]>(client, "disconnect");
    const acks = await Promise.all(Array.from({ length: 51 }, (_, i) => send(client, "move", i)));
    assert.equal(acks.filter((a) => typeof a === "string").length, 50);
    assert.equal((acks[50] as { code: string }).code, "RATE_LIMITED");
    for (let i = 0; i < 99; i++) client.emit("move", i); // 100 refusals in all, on a clock that stands still
    assert.equal((await gone)[0], "io server disconnect");
    assert.deepEqual(app.reasons, ["rate limited"]);
    assert.equal(app.handled.length, 50);
  });

  test("invalid options throw a TuttiError INVALID_OPTION", () => {
    const invalid = (options: RateLimitOptions): void =>
      assert.throws(
        () => rateLimit(options),
        (err: unknown) => err instanceof TuttiError && err.code === "INVALID_OPTION",
      );
    invalid({ perSocket: { burst: 0, perSecond: 1 } });
    invalid({ perSocket: { burst: 1.5, perSecond: 1 } });
    invalid({ perSocket: { burst: 1, perSecond: 0 } });
    invalid({ perSocket: { burst: 1, perSecond: Number.POSITIVE_INFINITY } });
    invalid({ perEvent: { chat: { burst: 1, perSecond: -1 } } });
    invalid({ disconnectAfter: 0 });
    invalid({ disconnectWindowMs: 0 });
  });
});
