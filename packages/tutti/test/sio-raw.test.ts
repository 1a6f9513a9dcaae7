/**
 * The Socket.IO layer on the wire: a raw WebSocket (and raw HTTP polling) speaks Engine.IO
 * frames carrying Socket.IO packets to a running server. Malformed packets close the offending
 * connection only; an official client connected to the same server carries on.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import type { Socket as ClientSocket } from "socket.io-client";
import type { EngineSession, Socket } from "../src/index.js";
import { FakeClock } from "../src/testing/index.js";
import { http, pollingHandshake, RawWs, until } from "./helpers.js";
import { connected, type RunningIo, startIo } from "./sio-helpers.js";

const WS_QUERY = "/socket.io/?EIO=4&transport=websocket";
const PLACEHOLDER_0 = '{"_placeholder":true,"num":0}';
const PLACEHOLDER_1 = '{"_placeholder":true,"num":1}';
/** A safety net so a broken server fails a test instead of hanging the run; not a timing assertion. */
const T = { timeout: 10_000 };

/** Raw sockets opened by a test, terminated after it. */
const raws: RawWs[] = [];

afterEach(() => {
  for (const raw of raws.splice(0)) raw.ws.terminate();
});

/** Opens a raw WebSocket and takes the Engine.IO open packet. */
async function rawOpen(port: number): Promise<RawWs> {
  const raw = new RawWs(`ws://127.0.0.1:${port}${WS_QUERY}`);
  raws.push(raw);
  const open = await raw.next();
  assert.equal(typeof open, "string");
  assert.match(open as string, /^0\{/, "the engine open packet comes first");
  const handshake = JSON.parse((open as string).slice(1)) as Record<string, unknown>;
  assert.equal(typeof handshake.sid, "string");
  assert.deepEqual(handshake.upgrades, []);
  return raw;
}

/** The next frame that is not an Engine.IO ping (pings are answered). */
async function nextPacket(raw: RawWs): Promise<string | Buffer> {
  for (;;) {
    const frame = await raw.next();
    if (frame === "2") {
      raw.send("3");
      continue;
    }
    return frame;
  }
}

/** Sends CONNECT for `nsp` and returns the socket id from the server's answer. */
async function rawConnect(raw: RawWs, nsp = "/"): Promise<string> {
  const prefix = nsp === "/" ? "" : `${nsp},`;
  raw.send(`40${prefix}`);
  const answer = await nextPacket(raw);
  assert.equal(typeof answer, "string");
  const match = /^40(\/[^,]*,)?(\{.*\})$/.exec(answer as string);
  assert.ok(match, `CONNECT answered with ${String(answer)}`);
  assert.equal(match[1] ?? "", prefix);
  const body = JSON.parse(match[2] as string) as { sid?: unknown };
  assert.equal(typeof body.sid, "string");
  assert.deepEqual(Object.keys(body), ["sid"]);
  return body.sid as string;
}

describe("Socket.IO over a raw WebSocket", () => {
  let run: RunningIo;
  let official: ClientSocket;
  /** Disconnect reasons of server-side sockets, by socket id. */
  const reasons = new Map<string, string>();
  let echoes = 0;

  const onConnection = (socket: Socket) => {
    socket.on("disconnect", (reason) => reasons.set(socket.id, reason));
    socket.on("echo", (...args: unknown[]) => {
      const ack = args.pop();
      if (typeof ack === "function") ack(...args);
    });
  };

  before(async () => {
    run = await startIo();
    run.io.on("connection", onConnection);
    run.io.of("/admin").on("connection", onConnection);
    official = run.client("/");
    await connected(official);
  });

  after(async () => {
    await run.close();
  });

  /** The official client is still connected and still gets acks. */
  async function officialStillWorks(): Promise<void> {
    assert.equal(official.connected, true, "the official client is still connected");
    const n = ++echoes;
    const answer: unknown = await official.emitWithAck("echo", { n }, "x");
    assert.deepEqual(answer, { n });
  }

  test("engine open packet, then 40 gets 40{sid}, and events and acks flow", T, async () => {
    const raw = await rawOpen(run.port);
    const sid = await rawConnect(raw);
    assert.ok(run.io.sockets.sockets.has(sid), "the sid is the server-side socket id");
    raw.send('421["echo","hi",{"a":[1,2]}]');
    assert.equal(await nextPacket(raw), '431["hi",{"a":[1,2]}]');
    // an event with no ack id gets no answer; the next ack still comes in order
    raw.send('42["echo","no ack"]');
    raw.send('4207["echo",null]'); // ack id "07" is 7
    assert.equal(await nextPacket(raw), "437[null]");
    // the server emits to the raw client
    run.io.sockets.sockets.get(sid)?.emit("news", "headline", 3);
    assert.equal(await nextPacket(raw), '42["news","headline",3]');
    await officialStillWorks();
  });

  test("a binary event with an ack: header, then the attachment, both ways", T, async () => {
    const raw = await rawOpen(run.port);
    const sid = await rawConnect(raw);
    raw.send(`451-9["echo",${PLACEHOLDER_0}]`);
    raw.send(Buffer.from([1, 2, 3]));
    assert.equal(await nextPacket(raw), `461-9[${PLACEHOLDER_0}]`);
    assert.deepEqual(await nextPacket(raw), Buffer.from([1, 2, 3]));
    // a broadcast (encoded once for all recipients) carries its attachments the same way
    run.io.to(sid).emit("file", { name: "f", body: Buffer.from([9]) }, new Uint8Array([8, 7]));
    assert.equal(await nextPacket(raw), `452-["file",{"name":"f","body":${PLACEHOLDER_0}},${PLACEHOLDER_1}]`);
    assert.deepEqual(await nextPacket(raw), Buffer.from([9]));
    assert.deepEqual(await nextPacket(raw), Buffer.from([8, 7]));
    await officialStillWorks();
  });

  test("a namespace CONNECT gets 40/admin,{sid}", T, async () => {
    const raw = await rawOpen(run.port);
    await rawConnect(raw);
    const sid = await rawConnect(raw, "/admin");
    assert.ok(run.io.of("/admin").sockets.has(sid));
    raw.send('42/admin,3["echo",1]');
    assert.equal(await nextPacket(raw), "43/admin,3[1]");
  });

  const malformed: Array<{
    name: string;
    messages: Array<string | Buffer>;
    /** The reason the raw client's server-side socket gets. */
    reason: string;
  }> = [
    { name: 'unknown engine message "4abc"', messages: ["4abc"], reason: "parse error" },
    { name: 'unknown Socket.IO type "49"', messages: ['49["a"]'], reason: "parse error" },
    { name: 'EVENT not an array "42{}"', messages: ["42{}"], reason: "parse error" },
    { name: 'EVENT with invalid JSON "42abc"', messages: ["42abc"], reason: "parse error" },
    { name: 'EVENT with an empty array "42[]"', messages: ["42[]"], reason: "parse error" },
    { name: 'reserved event name 42["connect"]', messages: ['42["connect"]'], reason: "parse error" },
    { name: 'reserved event name 42["disconnect"]', messages: ['42["disconnect"]'], reason: "parse error" },
    { name: 'ACK without id "43[]"', messages: ["43[]"], reason: "parse error" },
    {
      name: "451-[...] then a text packet instead of the attachment",
      messages: [`451-["echo",${PLACEHOLDER_0}]`, '42["echo"]'],
      reason: "parse error",
    },
    { name: "a binary frame with no binary header", messages: [Buffer.from([1, 2, 3])], reason: "parse error" },
    {
      name: '"4511-[...]": 11 attachments, over the default limit of 10',
      messages: [`4511-["echo",${PLACEHOLDER_0}]`],
      reason: "parse error",
    },
    {
      name: "placeholder num out of range",
      messages: [`451-["echo",${PLACEHOLDER_1}]`, Buffer.from([1])],
      reason: "parse error",
    },
    {
      name: "placeholder num not an integer",
      messages: ['451-["echo",{"_placeholder":true,"num":0.5}]', Buffer.from([1])],
      reason: "parse error",
    },
    { name: "ack id with 16 digits", messages: [`42${"1".repeat(16)}["echo"]`], reason: "parse error" },
    { name: 'CONNECT_ERROR sent by the client "44{}"', messages: ["44{}"], reason: "forced server close" },
    { name: "a second CONNECT to a connected namespace", messages: ["40"], reason: "forced server close" },
    { name: "DISCONNECT with a payload", messages: ["41{}"], reason: "parse error" },
  ];

  for (const { name, messages, reason } of malformed) {
    test(`closes the connection on ${name}`, T, async () => {
      const raw = await rawOpen(run.port);
      const sid = await rawConnect(raw);
      for (const m of messages) raw.send(m);
      await raw.waitClosed();
      await until(() => reasons.has(sid), "the server-side disconnect");
      assert.equal(reasons.get(sid), reason);
      assert.equal(run.io.sockets.sockets.has(sid), false);
      await officialStillWorks();
    });
  }

  test("a CONNECT repeated before the first is answered gets one answer (socket.io-client does this)", T, async () => {
    const raw = await rawOpen(run.port);
    const tcp = (raw.ws as unknown as { _socket: import("node:net").Socket })._socket;
    tcp.cork();
    raw.send("40/admin,");
    raw.send("40/admin,");
    tcp.uncork();
    const answer = String(await nextPacket(raw));
    assert.match(answer, /^40\/admin,\{"sid":"[^"]+"\}$/);
    // the next thing on the wire is the answer to a later round trip, not a second CONNECT answer
    raw.send('42/admin,1["echo"]');
    assert.match(String(await nextPacket(raw)), /^43\/admin,1/);
  });

  test("a malformed packet before any CONNECT closes the connection too", T, async () => {
    const raw = await rawOpen(run.port);
    raw.send("42abc");
    await raw.waitClosed();
    await officialStillWorks();
  });

  test("a parse error disconnects every namespace socket of the connection", T, async () => {
    const raw = await rawOpen(run.port);
    const main = await rawConnect(raw);
    const admin = await rawConnect(raw, "/admin");
    raw.send("42{}");
    await raw.waitClosed();
    await until(() => reasons.has(main) && reasons.has(admin), "both disconnects");
    assert.equal(reasons.get(main), "parse error");
    assert.equal(reasons.get(admin), "parse error");
    await officialStillWorks();
  });

  test("an EVENT for a namespace the client never connected to closes the connection (as socket.io)", T, async () => {
    const raw = await rawOpen(run.port);
    const sid = await rawConnect(raw);
    raw.send('42/admin,5["echo","lost"]');
    await raw.waitClosed();
    await until(() => reasons.has(sid), "the server-side disconnect");
    assert.equal(reasons.get(sid), "forced server close");
    await officialStillWorks();
  });

  test(
    "an EVENT in flight for a namespace the server just disconnected is dropped; the connection stays",
    T,
    async () => {
      // socket.io closes the whole connection here; Tutti drops the packet on purpose (see
      // docs/socket-io-coverage.md): the client could not know the server had disconnected it
      const raw = await rawOpen(run.port);
      await rawConnect(raw);
      const admin = await rawConnect(raw, "/admin");
      run.io.of("/admin").sockets.get(admin)?.disconnect();
      assert.equal(await nextPacket(raw), "41/admin,");
      raw.send('42/admin,5["echo","lost"]');
      raw.send('421["echo","after"]');
      assert.equal(await nextPacket(raw), '431["after"]', "nothing answered the dropped event");
      assert.equal(raw.closed, false);
      await officialStillWorks();
    },
  );

  test('an unknown namespace gets 44/random,{"message":"Invalid namespace"} and the connection stays', T, async () => {
    const raw = await rawOpen(run.port);
    raw.send("40/random,");
    assert.equal(await nextPacket(raw), '44/random,{"message":"Invalid namespace"}');
    assert.equal(run.io.namespaces.has("/random"), false, "no namespace was created");
    // the same connection can still join a real namespace
    await rawConnect(raw);
    raw.send('422["echo",true]');
    assert.equal(await nextPacket(raw), "432[true]");
    await officialStillWorks();
  });

  test("CONNECT with an auth payload reaches the handshake", T, async () => {
    const raw = await rawOpen(run.port);
    const sid = await rawConnect(raw, "/");
    assert.deepEqual(run.io.sockets.sockets.get(sid)?.handshake.auth, {});
    const raw2 = await rawOpen(run.port);
    raw2.send('40{"token":"abc"}');
    const answer = (await nextPacket(raw2)) as string;
    const sid2 = (JSON.parse(answer.slice(2)) as { sid: string }).sid;
    assert.deepEqual(run.io.sockets.sockets.get(sid2)?.handshake.auth, { token: "abc" });
  });
});

describe("Socket.IO connection lifetime over a raw WebSocket", () => {
  test("connectTimeout: a connection that never sends CONNECT is closed; one that did is kept", T, async () => {
    const clock = new FakeClock();
    const run = await startIo({ connectTimeout: 300, clock });
    try {
      run.io.on("connection", (socket) => {
        socket.on("echo", (x: unknown, ack: (x: unknown) => void) => ack(x));
      });
      const joined = await rawOpen(run.port);
      await rawConnect(joined);
      const idle = await rawOpen(run.port);
      const [joinedSession, idleSession] = [...run.io.engine.clients.values()] as EngineSession[];
      clock.advance(299);
      assert.equal(idleSession?.readyState, "open");
      clock.advance(1); // connectTimeout, for both
      assert.notEqual(idleSession?.readyState, "open");
      assert.equal(joinedSession?.readyState, "open");
      await idle.waitClosed();
      assert.equal(joined.closed, false, "a connected client is not timed out");
      joined.send('421["echo","alive"]');
      assert.equal(await nextPacket(joined), '431["alive"]');
    } finally {
      await run.close();
    }
  });

  test('"41" leaves the namespace but keeps the engine connection, which keeps getting pings', T, async () => {
    const clock = new FakeClock();
    const run = await startIo({ pingInterval: 200, connectTimeout: 300, clock });
    try {
      const disconnected = new Promise<string>((resolve) => {
        run.io.on("connection", (socket) => socket.on("disconnect", (reason) => resolve(reason)));
      });
      const raw = await rawOpen(run.port);
      const sid = await rawConnect(raw);
      raw.send("41");
      assert.equal(await disconnected, "client namespace disconnect");
      assert.equal(run.io.sockets.sockets.has(sid), false);
      // three pings: well past connectTimeout, which must not come back once a socket connected
      const session = [...run.io.engine.clients.values()][0] as EngineSession;
      for (let i = 0; i < 3; i++) {
        clock.advance(200);
        assert.equal(await raw.next(), "2");
        const pong = new Promise<void>((resolve) => session.once("heartbeat", () => resolve()));
        raw.send("3");
        await pong;
      }
      assert.equal(session.readyState, "open");
      assert.equal(raw.closed, false);
      // and the connection can join again
      await rawConnect(raw);
    } finally {
      await run.close();
    }
  });

  test("a server-side disconnect sends 41 and keeps the engine connection", T, async () => {
    const run = await startIo();
    try {
      run.io.on("connection", (socket) => {
        socket.on("leave", () => socket.disconnect());
      });
      const raw = await rawOpen(run.port);
      await rawConnect(raw);
      raw.send('42["leave"]');
      assert.equal(await nextPacket(raw), "41");
      await rawConnect(raw);
      assert.equal(raw.closed, false);
    } finally {
      await run.close();
    }
  });

  test("maxAttachments is a server option", T, async () => {
    const run = await startIo({ maxAttachments: 2 });
    try {
      run.io.on("connection", (socket) => {
        socket.on("echo", (...args: unknown[]) => (args.pop() as (...a: unknown[]) => void)(args.length));
      });
      const ok = await rawOpen(run.port);
      await rawConnect(ok);
      ok.send(`452-1["echo",${PLACEHOLDER_0},${PLACEHOLDER_1}]`);
      ok.send(Buffer.from([1]));
      ok.send(Buffer.from([2]));
      assert.equal(await nextPacket(ok), "431[2]");
      const bad = await rawOpen(run.port);
      await rawConnect(bad);
      bad.send(`453-1["echo",${PLACEHOLDER_0}]`);
      await bad.waitClosed();
      assert.equal(ok.closed, false);
    } finally {
      await run.close();
    }
  });
});

describe("Packets sent right behind their CONNECT", () => {
  // A client may write CONNECT and an EVENT for that namespace back to back (one polling POST, or
  // two WebSocket frames in one TCP segment) before the server has answered the CONNECT. The
  // server must deliver the event to the new socket (socket.io itself closes the connection with
  // "invalid state" here, which at least is visible): it must not vanish.

  test('a polling POST batching 40 and 42["hello"] with the record separator delivers "hello"', T, async () => {
    const run = await startIo({}, "polling");
    try {
      const events: unknown[][] = [];
      const second = new Promise<void>((resolve) => {
        run.io.on("connection", (socket) => {
          socket.on("hello", (...args: unknown[]) => events.push(["hello", ...args]));
          socket.on("second", () => resolve());
        });
      });
      const { sid } = await pollingHandshake(run.port);
      const path = `/socket.io/?EIO=4&transport=polling&sid=${sid}`;
      const post = await http(run.port, "POST", path, '40\x1e42["hello","world",1]', {
        "content-type": "text/plain;charset=UTF-8",
      });
      assert.equal(post.status, 200);
      assert.equal(post.body, "ok");
      const poll = await http(run.port, "GET", path);
      assert.equal(poll.status, 200);
      const connect = poll.body.split("\x1e")[0] as string;
      assert.match(connect, /^40\{"sid":"[^"]+"\}$/);
      const socketId = (JSON.parse(connect.slice(2)) as { sid: string }).sid;
      assert.ok(run.io.sockets.sockets.has(socketId));
      assert.notEqual(socketId, sid, "the socket id is not the engine session id");
      // a later packet, handled in order: by the time it arrives, "hello" must have too
      const later = await http(run.port, "POST", path, '42["second"]');
      assert.equal(later.status, 200);
      await second;
      assert.deepEqual(events, [["hello", "world", 1]], "the event batched with the CONNECT was delivered");
    } finally {
      await run.close();
    }
  });

  test('over WebSocket, 40 and 42["hello"] sent without waiting deliver "hello"', T, async () => {
    const run = await startIo();
    try {
      const events: string[] = [];
      const second = new Promise<void>((resolve) => {
        run.io.on("connection", (socket) => {
          socket.on("hello", () => events.push("hello"));
          socket.on("second", () => resolve());
        });
      });
      const raw = await rawOpen(run.port);
      // one TCP write, so both frames reach the server in the same read
      const tcp = (raw.ws as unknown as { _socket: import("node:net").Socket })._socket;
      tcp.cork();
      raw.send("40");
      raw.send('42["hello"]');
      tcp.uncork();
      assert.match((await nextPacket(raw)) as string, /^40\{"sid":/);
      raw.send('42["second"]');
      await second;
      assert.deepEqual(events, ["hello"], "the event sent right behind the CONNECT was delivered");
    } finally {
      await run.close();
    }
  });

  test("more than 100 packets held behind a CONNECT close the connection (forced server close)", T, async () => {
    const run = await startIo();
    try {
      const reasons: string[] = [];
      run.io.on("connection", (socket) => socket.on("disconnect", (reason) => reasons.push(reason)));
      const raw = await rawOpen(run.port);
      const tcp = (raw.ws as unknown as { _socket: import("node:net").Socket })._socket;
      tcp.cork();
      raw.send("40");
      for (let i = 0; i < 101; i++) raw.send(`42["flood",${i}]`);
      tcp.uncork();
      await raw.waitClosed();
      assert.equal(run.io.sockets.sockets.size, 0);
      assert.deepEqual(reasons, []);
    } finally {
      await run.close();
    }
  });

  test("polling: 40, 42 in separate POSTs after the CONNECT answer works", T, async () => {
    const run = await startIo({}, "polling");
    try {
      const hello = new Promise<unknown[]>((resolve) => {
        run.io.on("connection", (socket) => socket.on("hello", (...args: unknown[]) => resolve(args)));
      });
      const { sid } = await pollingHandshake(run.port);
      const path = `/socket.io/?EIO=4&transport=polling&sid=${sid}`;
      assert.equal((await http(run.port, "POST", path, "40")).body, "ok");
      assert.match((await http(run.port, "GET", path)).body, /^40\{"sid":"[^"]+"\}$/);
      assert.equal((await http(run.port, "POST", path, '42["hello",2]\x1e421["hello",3]')).body, "ok");
      assert.deepEqual(await hello, [2]);
    } finally {
      await run.close();
    }
  });
});

describe("Socket.IO over raw HTTP polling", () => {
  test("a malformed packet in a POST closes the polling session, not the official client's", T, async () => {
    const run = await startIo({}, "polling");
    try {
      const reasons: string[] = [];
      run.io.on("connection", (socket) => {
        socket.on("disconnect", (reason) => reasons.push(reason));
        socket.on("echo", (x: unknown, ack: (x: unknown) => void) => ack(x));
      });
      const official = run.client("/", {}, "polling");
      await connected(official);
      const { sid } = await pollingHandshake(run.port);
      const path = `/socket.io/?EIO=4&transport=polling&sid=${sid}`;
      await http(run.port, "POST", path, "40");
      assert.match((await http(run.port, "GET", path)).body, /^40\{"sid":/);
      await http(run.port, "POST", path, '421["echo",0]\x1e42{}');
      // the polls drain what was queued (the ack), then the close packet
      const received: string[] = [];
      while (received.at(-1) !== "1") {
        const poll = await http(run.port, "GET", path);
        assert.equal(poll.status, 200, `poll after ${JSON.stringify(received)}`);
        received.push(...poll.body.split("\x1e"));
      }
      assert.deepEqual(received, ["431[0]", "6", "1"], "the ack, then engine.io's noop and close");
      const after = await http(run.port, "GET", path);
      assert.equal(after.status, 400, "the sid is unknown now");
      assert.equal(run.io.engine.clients.has(sid), false);
      assert.deepEqual(reasons, ["parse error"]);
      assert.equal(official.connected, true);
      assert.equal(await official.emitWithAck("echo", "still"), "still");
    } finally {
      await run.close();
    }
  });
});
