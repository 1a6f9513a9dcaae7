/**
 * The Engine.IO v4 protocol over raw HTTP and raw WebSocket, checking what the spec
 * (socketio/socket.io docs/engine.io-protocol/v4-current.md) fixes: status codes, bodies,
 * packet framing, heartbeat, upgrade and close. Configured as the protocol's conformance
 * suite expects: path /engine.io/, pingInterval 300, pingTimeout 200, every message echoed.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { request } from "node:http";
import { after, before, describe, test } from "node:test";
import { WebSocket } from "ws";
import type { EngineSession } from "../src/index.js";
import { FakeClock } from "../src/testing/index.js";
import {
  http,
  pollingHandshake,
  RawWs,
  type Running,
  startEcho,
  startEngine,
  until,
  type WsRefusal,
  wsHandshakeAnswer,
} from "./helpers.js";

const PATH = "/engine.io/";
let server: Running;
let port: number;

before(async () => {
  server = await startEcho({ path: "/engine.io", pingInterval: 300, pingTimeout: 200, cors: { origin: "*" } });
  port = server.port;
});
after(() => server.close());

const q = (query: string): string => `${PATH}?${query}`;
const handshake = () => pollingHandshake(port, PATH);
const wsUrl = (query: string): string => `ws://127.0.0.1:${port}${q(query)}`;

describe("handshake", () => {
  test("polling: 200 with an open packet carrying sid, upgrades, pingInterval, pingTimeout, maxPayload", async () => {
    const res = await http(port, "GET", q("EIO=4&transport=polling"));
    assert.equal(res.status, 200);
    assert.match(String(res.headers["content-type"]), /^text\/plain; charset=UTF-8$/);
    assert.equal(res.body[0], "0");
    const open = JSON.parse(res.body.slice(1));
    assert.deepEqual(Object.keys(open).sort(), ["maxPayload", "pingInterval", "pingTimeout", "sid", "upgrades"]);
    assert.equal(typeof open.sid, "string");
    assert.equal(open.sid.length, 20);
    assert.deepEqual(open.upgrades, ["websocket"]);
    assert.equal(open.pingInterval, 300);
    assert.equal(open.pingTimeout, 200);
    assert.equal(open.maxPayload, 1_000_000);
  });

  test("websocket: the first frame is the open packet, with no upgrades", async () => {
    const ws = new RawWs(wsUrl("EIO=4&transport=websocket"));
    const frame = (await ws.next()) as string;
    assert.equal(frame[0], "0");
    const open = JSON.parse(frame.slice(1));
    assert.deepEqual(open.upgrades, []);
    assert.equal(open.pingInterval, 300);
    assert.equal(open.maxPayload, 1_000_000);
    ws.ws.close();
  });

  test("sids are unique", async () => {
    const sids = new Set<string>();
    for (let i = 0; i < 20; i++) sids.add((await handshake()).sid);
    assert.equal(sids.size, 20);
  });

  const errors: Array<[string, string, string | undefined, number, number, string]> = [
    ["missing EIO", "GET", "transport=polling", 400, 5, "Unsupported protocol version"],
    ["EIO=3", "GET", "EIO=3&transport=polling", 400, 5, "Unsupported protocol version"],
    ["invalid EIO", "GET", "EIO=abc&transport=polling", 400, 5, "Unsupported protocol version"],
    ["missing transport", "GET", "EIO=4", 400, 0, "Transport unknown"],
    ["unknown transport", "GET", "EIO=4&transport=abc", 400, 0, "Transport unknown"],
    ["POST handshake", "POST", "EIO=4&transport=polling", 400, 2, "Bad handshake method"],
    ["PUT handshake", "PUT", "EIO=4&transport=polling", 400, 2, "Bad handshake method"],
    ["websocket transport over plain HTTP", "GET", "EIO=4&transport=websocket", 400, 3, "Bad request"],
    ["unknown sid", "GET", "EIO=4&transport=polling&sid=nope", 400, 1, "Session ID unknown"],
  ];
  for (const [name, method, query, status, code, message] of errors) {
    test(`${name} -> HTTP ${status}, code ${code}`, async () => {
      const res = await http(port, method, q(query ?? ""));
      assert.equal(res.status, status);
      assert.equal(res.headers["content-type"], "application/json");
      assert.deepEqual(JSON.parse(res.body), { code, message });
    });
  }

  test("an Origin with invalid characters is a bad request", async () => {
    // node's client refuses to send control characters in headers, so write the request by hand;
    // node's own parser or the engine's check refuses it, either way with a 400
    const { connect } = await import("node:net");
    const sock = connect(port, "127.0.0.1");
    sock.write(
      `GET ${q("EIO=4&transport=polling")} HTTP/1.1\r\nHost: x\r\nOrigin: http://a\x01b\r\nConnection: close\r\n\r\n`,
    );
    const chunks: Buffer[] = [];
    for await (const c of sock) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString();
    assert.match(text, /^HTTP\/1\.1 400/);
  });

  test("websocket handshakes with bad query are refused before the upgrade", async () => {
    for (const [query, code] of [
      ["transport=websocket", 5],
      ["EIO=abc&transport=websocket", 5],
      ["EIO=4", 0],
      ["EIO=4&transport=abc", 0],
      ["EIO=4&transport=websocket&sid=unknown", 1],
    ] as const) {
      const ws = new RawWs(wsUrl(query));
      const status = await new Promise<number>((resolve) =>
        ws.ws.on("unexpected-response", (_req, res) => {
          let body = "";
          res.on("data", (c: Buffer) => {
            body += c.toString();
          });
          res.on("end", () => {
            assert.equal(JSON.parse(body).code, code, query);
            resolve(res.statusCode ?? 0);
          });
        }),
      );
      assert.equal(status, 400, query);
    }
  });
});

describe("messages over polling", () => {
  test("POST answers ok, and the next GET carries the echo", async () => {
    const { sid } = await handshake();
    const post = await http(port, "POST", q(`EIO=4&transport=polling&sid=${sid}`), "4hello");
    assert.equal(post.status, 200);
    assert.equal(post.body, "ok");
    const get = await http(port, "GET", q(`EIO=4&transport=polling&sid=${sid}&t=abc`));
    assert.equal(get.status, 200);
    assert.equal(get.body, "4hello");
  });

  test("a batch of packets comes back batched in one response", async () => {
    const { sid } = await handshake();
    const payload = "4test1\x1e4test2\x1e4test3";
    assert.equal((await http(port, "POST", q(`EIO=4&transport=polling&sid=${sid}`), payload)).body, "ok");
    assert.equal((await http(port, "GET", q(`EIO=4&transport=polling&sid=${sid}`))).body, payload);
  });

  test("binary travels base64 with the b prefix", async () => {
    const { sid } = await handshake();
    const payload = "4hello\x1ebAQIDBA==";
    await http(port, "POST", q(`EIO=4&transport=polling&sid=${sid}`), payload);
    assert.equal((await http(port, "GET", q(`EIO=4&transport=polling&sid=${sid}`))).body, payload);
  });

  test("UTF-8 text survives both ways", async () => {
    const { sid } = await handshake();
    const payload = "4é€😀\x1e4日本語";
    await http(port, "POST", q(`EIO=4&transport=polling&sid=${sid}`), Buffer.from(payload));
    assert.equal((await http(port, "GET", q(`EIO=4&transport=polling&sid=${sid}`))).body, payload);
  });

  for (const [name, body] of [
    ["garbage", "abc"],
    ["an empty body", ""],
    ["a trailing separator", "4a\x1e"],
    ["invalid UTF-8", Buffer.from([0x34, 0xff, 0xfe])],
    ["bad base64", "b$$$$"],
  ] as const) {
    test(`${name} is a parse error: 400, and the session is closed`, async () => {
      const closed: string[] = [];
      const { sid } = await handshake();
      server.engine.clients.get(sid)?.on("close", (reason) => closed.push(reason));
      const res = await http(port, "POST", q(`EIO=4&transport=polling&sid=${sid}`), body);
      assert.equal(res.status, 400);
      assert.equal(JSON.parse(res.body).code, 3);
      assert.deepEqual(closed, ["parse error"]);
      assert.equal((await http(port, "GET", q(`EIO=4&transport=polling&sid=${sid}`))).status, 400);
    });
  }

  test("a binary (octet-stream) POST body is refused", async () => {
    const { sid } = await handshake();
    const res = await http(port, "POST", q(`EIO=4&transport=polling&sid=${sid}`), Buffer.from([1, 2]), {
      "Content-Type": "application/octet-stream",
    });
    assert.equal(res.status, 400);
    assert.equal((await http(port, "GET", q(`EIO=4&transport=polling&sid=${sid}`))).status, 400);
  });

  test("a second concurrent GET is refused with 400 and closes the session; the first gets a close packet", async () => {
    const { sid } = await handshake();
    const first = http(port, "GET", q(`EIO=4&transport=polling&sid=${sid}`));
    await waitForPendingGet(sid);
    const second = await http(port, "GET", q(`EIO=4&transport=polling&sid=${sid}&t=burst`));
    assert.equal(second.status, 400);
    const firstRes = await first;
    assert.equal(firstRes.status, 200);
    assert.equal(firstRes.body, "1");
    assert.equal((await http(port, "GET", q(`EIO=4&transport=polling&sid=${sid}`))).status, 400);
  });

  test("a second concurrent POST is refused with 400 and closes the session", async () => {
    const { sid } = await handshake();
    const reasons: string[] = [];
    server.engine.clients.get(sid)?.on("close", (r) => reasons.push(r));
    // first POST: headers sent, body left open
    const slow = request({
      host: "127.0.0.1",
      port,
      method: "POST",
      path: q(`EIO=4&transport=polling&sid=${sid}`),
      headers: { "Content-Length": "10" },
      agent: false,
    });
    slow.on("error", () => {});
    slow.on("response", (res) => res.resume());
    slow.write("4he");
    slow.flushHeaders();
    // give the server the first request before sending the second: await its arrival
    await new Promise((r) => setTimeout(r, 50));
    const second = await http(port, "POST", q(`EIO=4&transport=polling&sid=${sid}`), "4x");
    assert.equal(second.status, 400);
    assert.deepEqual(reasons, ["transport error"]);
    slow.destroy();
  });

  test("a GET aborted by the client closes the session", async () => {
    const { sid } = await handshake();
    const session = server.engine.clients.get(sid) as EngineSession;
    const closed = new Promise<string>((resolve) => session.on("close", (r) => resolve(r)));
    const req = request({ host: "127.0.0.1", port, path: q(`EIO=4&transport=polling&sid=${sid}`), agent: false });
    req.on("error", () => {});
    req.end();
    await waitForPendingGet(sid);
    req.destroy();
    assert.equal(await closed, "transport error");
    assert.equal((await http(port, "GET", q(`EIO=4&transport=polling&sid=${sid}`))).status, 400);
  });

  test("other methods on a session are a bad request and leave it open", async () => {
    const { sid } = await handshake();
    const res = await http(port, "PUT", q(`EIO=4&transport=polling&sid=${sid}`), "4x");
    assert.equal(res.status, 400);
    assert.ok(server.engine.clients.has(sid));
  });
});

describe("messages over websocket", () => {
  test("text and binary are echoed, each in its own frame", async () => {
    const ws = new RawWs(wsUrl("EIO=4&transport=websocket"));
    await ws.next(); // open
    ws.send("4hello");
    assert.equal(await ws.next(), "4hello");
    ws.send(Buffer.from([1, 2, 3, 4]));
    assert.deepEqual(await ws.next(), Buffer.from([1, 2, 3, 4]));
    ws.ws.close();
  });

  test("with b64=1 binary comes back as base64 text", async () => {
    const ws = new RawWs(wsUrl("EIO=4&transport=websocket&b64=1"));
    await ws.next();
    ws.send(Buffer.from([1, 2, 3, 4]));
    assert.equal(await ws.next(), "bAQIDBA==");
    ws.ws.close();
  });

  test("an invalid packet closes the socket with parse error", async () => {
    let reason = "";
    const local = await startEngine({}, (s) => s.on("close", (r) => (reason = r)));
    const ws = new RawWs(`ws://127.0.0.1:${local.port}/socket.io/?EIO=4&transport=websocket`);
    await ws.next();
    ws.send("abc");
    await ws.waitClosed();
    assert.equal(reason, "parse error");
    await local.close();
  });

  test("a ping from the client is refused: v4 pings only from the server", async () => {
    const ws = new RawWs(wsUrl("EIO=4&transport=websocket"));
    await ws.next();
    ws.send("2");
    await ws.waitClosed();
  });
});

describe("heartbeat", () => {
  // The same configuration on a fake clock: each ping and timeout comes when the test says.
  let beat: Running;
  let clock: FakeClock;
  before(async () => {
    clock = new FakeClock();
    beat = await startEcho({ path: "/engine.io", pingInterval: 300, pingTimeout: 200, clock });
  });
  after(() => beat.close());
  const poll = (sid: string) => q(`EIO=4&transport=polling&sid=${sid}`);

  /** Resolves once the server has the session's pong. */
  const pong = (sid: string): Promise<void> =>
    new Promise((resolve) => beat.engine.clients.get(sid)?.once("heartbeat", () => resolve()));

  test("polling: the server pings, the client pongs, three times", async () => {
    const { sid } = await pollingHandshake(beat.port, PATH);
    for (let i = 0; i < 3; i++) {
      const get = http(beat.port, "GET", poll(sid));
      clock.advance(300);
      assert.equal((await get).body, "2");
      assert.equal((await http(beat.port, "POST", poll(sid), "3")).body, "ok");
    }
    assert.equal(beat.engine.clients.get(sid)?.readyState, "open");
  });

  test("polling: without a pong the session closes with ping timeout", async () => {
    const { sid } = await pollingHandshake(beat.port, PATH);
    const session = beat.engine.clients.get(sid) as EngineSession;
    const reasons: string[] = [];
    session.on("close", (r) => reasons.push(r));
    clock.advance(300); // the ping
    clock.advance(199);
    assert.deepEqual(reasons, []);
    clock.advance(1);
    assert.deepEqual(reasons, ["ping timeout"]);
    assert.equal((await http(beat.port, "GET", poll(sid))).status, 400);
  });

  test("websocket: ping and pong three times, then silence closes the socket", async () => {
    const ws = new RawWs(`ws://127.0.0.1:${beat.port}${q("EIO=4&transport=websocket")}`);
    const { sid } = JSON.parse(String(await ws.next()).slice(1)) as { sid: string };
    for (let i = 0; i < 3; i++) {
      clock.advance(300);
      assert.equal(await ws.next(), "2");
      const answered = pong(sid);
      ws.send("3");
      await answered;
    }
    clock.advance(300);
    assert.equal(await ws.next(), "2");
    clock.advance(200);
    await ws.waitClosed();
  });
});

describe("close", () => {
  test("polling: a close packet ends the session; the pending GET gets a noop", async () => {
    const { sid } = await handshake();
    const get = http(port, "GET", q(`EIO=4&transport=polling&sid=${sid}`));
    await waitForPendingGet(sid);
    const post = await http(port, "POST", q(`EIO=4&transport=polling&sid=${sid}`), "1");
    assert.equal(post.body, "ok");
    assert.equal((await get).body, "6");
    assert.equal((await http(port, "GET", q(`EIO=4&transport=polling&sid=${sid}`))).status, 400);
  });

  test("websocket: a close packet closes the socket at once", async () => {
    const ws = new RawWs(wsUrl("EIO=4&transport=websocket"));
    await ws.next();
    ws.send("1");
    await ws.waitClosed();
  });

  test("server-side close over polling delivers what is queued, then a close packet in the next response", async () => {
    const { sid } = await handshake();
    const session = server.engine.clients.get(sid) as EngineSession;
    const reasons: string[] = [];
    session.on("close", (r) => reasons.push(r));
    session.send("bye");
    session.close();
    session.send("too late");
    const first = await http(port, "GET", q(`EIO=4&transport=polling&sid=${sid}`));
    assert.equal(first.body, "4bye");
    assert.deepEqual(reasons, []);
    const second = await http(port, "GET", q(`EIO=4&transport=polling&sid=${sid}`));
    assert.equal(second.body, "6\x1e1", "a noop then the close packet, as engine.io words it");
    assert.deepEqual(reasons, ["forced close"]);
  });

  test("server-side close over polling with nothing queued answers the pending poll with a close packet", async () => {
    const { sid } = await handshake();
    const session = server.engine.clients.get(sid) as EngineSession;
    const get = http(port, "GET", q(`EIO=4&transport=polling&sid=${sid}`));
    await until(() => session.transport.writable, "the poll to be pending");
    session.close();
    assert.equal((await get).body, "1");
  });
});

describe("upgrade", () => {
  async function probe(sid: string): Promise<RawWs> {
    const ws = new RawWs(wsUrl(`EIO=4&transport=websocket&sid=${sid}`));
    await ws.opened();
    ws.send("2probe");
    assert.equal(await ws.next(), "3probe");
    return ws;
  }

  test("probe, noop to polling, upgrade packet, then messages flow over the websocket", async () => {
    const { sid } = await handshake();
    const upgraded = new Promise<void>((r) => server.engine.clients.get(sid)?.once("upgrade", () => r()));
    const ws = await probe(sid);
    const get = await http(port, "GET", q(`EIO=4&transport=polling&sid=${sid}`));
    assert.equal(get.status, 200);
    assert.equal(get.body, "6");
    ws.send("5");
    await upgraded;
    ws.send("4hello");
    assert.equal(await ws.next(), "4hello");
    ws.ws.close();
  });

  test("a GET pending when the probe arrives is answered with a noop", async () => {
    const { sid } = await handshake();
    const get = http(port, "GET", q(`EIO=4&transport=polling&sid=${sid}`));
    await waitForPendingGet(sid);
    const ws = await probe(sid);
    assert.equal((await get).body, "6");
    ws.ws.close();
  });

  test("after the upgrade, polling requests for the session are refused", async () => {
    const { sid } = await handshake();
    const ws = await probe(sid);
    ws.send("5");
    ws.send("4hello");
    assert.equal(await ws.next(), "4hello");
    const get = await http(port, "GET", q(`EIO=4&transport=polling&sid=${sid}`));
    assert.equal(get.status, 400);
    ws.send("4again");
    assert.equal(await ws.next(), "4again");
    ws.ws.close();
  });

  /** A WebSocket for `sid` that must open (HTTP 101) and then be closed by the server: its close code. */
  async function openedThenClosed(sid: string): Promise<number> {
    const second = await wsHandshakeAnswer(wsUrl(`EIO=4&transport=websocket&sid=${sid}`));
    assert.ok(second instanceof WebSocket, `refused with HTTP ${(second as WsRefusal).status}`);
    const [code] = (await once(second, "close")) as [number];
    return code;
  }

  // engine.io completes the handshake of such a WebSocket and closes it: a `ws` client sees a
  // close, not an error (an HTTP 400 would be one).
  test("a second websocket for an upgraded session opens and is closed; the first keeps working", async () => {
    const { sid } = await handshake();
    const ws = await probe(sid);
    ws.send("5");
    ws.send("4one");
    assert.equal(await ws.next(), "4one");
    assert.equal(await openedThenClosed(sid), 1000);
    ws.send("4two");
    assert.equal(await ws.next(), "4two");
    ws.ws.close();
  });

  test("a second websocket while the first is probing opens and is closed; the upgrade completes", async () => {
    const { sid } = await handshake();
    const ws = await probe(sid);
    assert.equal(await openedThenClosed(sid), 1000);
    ws.send("5");
    ws.send("4one");
    assert.equal(await ws.next(), "4one");
    ws.ws.close();
  });

  test("a websocket for a session opened over websocket opens and is closed; the first keeps working", async () => {
    const ws = new RawWs(wsUrl("EIO=4&transport=websocket"));
    const open = JSON.parse(String(await ws.next()).slice(1)) as { sid: string };
    assert.equal(await openedThenClosed(open.sid), 1000);
    ws.send("4one");
    assert.equal(await ws.next(), "4one");
    ws.ws.close();
  });

  test("messages queued during the probe are delivered over the websocket after the upgrade", async () => {
    const { sid } = await handshake();
    const session = server.engine.clients.get(sid) as EngineSession;
    const ws = await probe(sid);
    session.send("queued-1");
    session.send("queued-2");
    ws.send("5");
    assert.equal(await ws.next(), "4queued-1");
    assert.equal(await ws.next(), "4queued-2");
    ws.ws.close();
  });

  test("a probe that never sends the upgrade packet is dropped after upgradeTimeout; polling goes on", async () => {
    const clock = new FakeClock();
    const local = await startEcho({ upgradeTimeout: 50, clock });
    const { sid } = await pollingHandshake(local.port);
    const ws = new RawWs(`ws://127.0.0.1:${local.port}/socket.io/?EIO=4&transport=websocket&sid=${sid}`);
    await ws.opened();
    ws.send("2probe");
    assert.equal(await ws.next(), "3probe");
    clock.advance(50);
    await ws.waitClosed();
    const path = `/socket.io/?EIO=4&transport=polling&sid=${sid}`;
    assert.equal((await http(local.port, "POST", path, "4still")).body, "ok");
    assert.equal((await http(local.port, "GET", path)).body, "4still");
    await local.close();
  });

  test("an unexpected packet during the probe cancels the upgrade", async () => {
    const { sid } = await handshake();
    const ws = new RawWs(wsUrl(`EIO=4&transport=websocket&sid=${sid}`));
    await ws.opened();
    ws.send("4hello");
    await ws.waitClosed();
    assert.ok(server.engine.clients.has(sid));
  });
});

describe("server shutdown", () => {
  test("close() ends every session with server shutdown and answers pending GETs", async () => {
    const local = await startEcho();
    const reasons: string[] = [];
    local.engine.on("connection", (s) => s.on("close", (r) => reasons.push(r)));
    const { sid } = await pollingHandshake(local.port);
    const get = http(local.port, "GET", `/socket.io/?EIO=4&transport=polling&sid=${sid}`);
    const ws = new RawWs(`ws://127.0.0.1:${local.port}/socket.io/?EIO=4&transport=websocket`);
    await ws.next();
    while (local.engine.clientsCount < 2 || !hasPendingGet(local, sid)) await new Promise((r) => setImmediate(r));
    await local.close();
    assert.equal((await get).body, "1");
    await ws.waitClosed();
    assert.deepEqual(reasons.sort(), ["server shutdown", "server shutdown"]);
    assert.equal(local.engine.clientsCount, 0);
  });
});

function hasPendingGet(run: Running, sid: string): boolean {
  return run.engine.clients.get(sid)?.transport.writable === true;
}

async function waitForPendingGet(sid: string): Promise<void> {
  while (!hasPendingGet(server, sid)) await new Promise((r) => setImmediate(r));
}
