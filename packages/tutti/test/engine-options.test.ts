import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from "node:http";
import { connect as netConnect } from "node:net";
import { describe, test } from "node:test";
import { gunzipSync, inflateSync } from "node:zlib";
import { Socket as ClientSocket } from "engine.io-client";
import { WebSocket, WebSocketServer } from "ws";
import { type ConnectionError, type EngineOptions, EngineServer, type EngineSession } from "../src/index.js";
import { FakeClock } from "../src/testing/index.js";
import {
  type HttpResult,
  http,
  pollingHandshake,
  RawWs,
  type Running,
  running,
  startEcho,
  startEngine,
} from "./helpers.js";

// Every test gets a limit so that a hang fails instead of blocking the run.
const T = { timeout: 15_000 };
const HANDSHAKE = "/socket.io/?EIO=4&transport=polling";

// ---------- small helpers local to this file ----------

function pollPath(sid: string): string {
  return `/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`;
}

function wsUrl(port: number, query = ""): string {
  return `ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket${query}`;
}

function json(res: HttpResult): unknown {
  return JSON.parse(res.body);
}

function accessControlHeaders(headers: IncomingHttpHeaders): string[] {
  return Object.keys(headers).filter((k) => k.startsWith("access-control-"));
}

/** Waits for the next session the engine opens. */
async function nextSession(engine: EngineServer): Promise<EngineSession> {
  const [session] = (await once(engine, "connection")) as [EngineSession];
  return session;
}

/** Opens a polling session by hand and returns it together with the server-side session. */
async function openPolling(r: Running): Promise<{ sid: string; session: EngineSession }> {
  const connected = nextSession(r.engine);
  const { sid } = await pollingHandshake(r.port);
  const session = await connected;
  assert.equal(session.id, sid);
  return { sid, session };
}

interface OpenedWs {
  ws: WebSocket;
  /** Response headers of the 101. */
  headers: IncomingHttpHeaders;
  /** Every text frame received, recorded from the moment the socket was created. */
  frames: string[];
  /** Resolves once `count` frames have been received. */
  frame(count: number): Promise<string>;
}

/** Opens a raw WebSocket, resolving with the socket, its 101 response headers and its frames. */
async function openWs(url: string, headers?: Record<string, string>): Promise<OpenedWs> {
  const ws = new WebSocket(url, headers ? { headers } : {});
  const frames: string[] = [];
  const waiters: Array<() => void> = [];
  ws.on("message", (data) => {
    frames.push(String(data));
    for (const w of waiters.splice(0)) w();
  });
  ws.on("close", () => {
    for (const w of waiters.splice(0)) w();
  });
  const upgraded = new Promise<IncomingHttpHeaders>((resolve) => ws.once("upgrade", (res) => resolve(res.headers)));
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  const frame = async (count: number): Promise<string> => {
    while (frames.length < count) {
      if (ws.readyState !== WebSocket.OPEN) throw new Error("websocket closed");
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
    return frames[count - 1] as string;
  };
  return { ws, headers: await upgraded, frames, frame };
}

/** A WebSocket that is expected to be refused; resolves with the client's error message. */
function wsRefusal(url: string, headers?: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, headers ? { headers } : {});
    ws.once("open", () => {
      ws.terminate();
      reject(new Error("websocket unexpectedly opened"));
    });
    ws.once("error", (err) => resolve(err.message));
  });
}

async function closeWs(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return;
  const closed = once(ws, "close");
  ws.terminate();
  await closed;
}

function newClient(port: number, opts: Record<string, unknown> = {}): ClientSocket {
  return new ClientSocket(`http://127.0.0.1:${port}`, { path: "/socket.io/", ...opts });
}

/** Resolves when the client opens; rejects on an error first. */
function clientOpen(client: ClientSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    client.once("open", () => resolve());
    client.once("error", (err) => reject(err instanceof Error ? err : new Error(String(err))));
  });
}

function clientMessage(client: ClientSocket): Promise<string> {
  return new Promise((resolve) => client.once("message", (data) => resolve(String(data))));
}

async function closeClient(client: ClientSocket): Promise<void> {
  if (client.readyState === "closed") return;
  const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
  client.close();
  await closed;
}

/** Starts an engine with a `cors` option and returns it. */
function startCors(cors: EngineOptions["cors"]): Promise<Running> {
  return startEngine({ cors });
}

/** Closes an http.Server we created ourselves (the engine does not own it). */
async function closeHttpServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}

/** A POST with chunked transfer-encoding (no Content-Length); resolves with the response. */
function chunkedPost(port: number, path: string, chunks: Buffer[]): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path,
        agent: false,
        headers: { "Content-Type": "text/plain;charset=UTF-8", "Transfer-Encoding": "chunked" },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on("data", (c: Buffer) => parts.push(c));
        res.on("end", () => {
          const raw = Buffer.concat(parts);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: raw.toString("utf8"), raw });
          req.destroy();
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    // The request is never ended: the server must answer once the body crosses the limit.
    for (const chunk of chunks) req.write(chunk);
  });
}

// =====================================================================================
// 1. maxHttpBufferSize
// =====================================================================================

describe("maxHttpBufferSize", () => {
  test("polling POST above the limit with Content-Length gets 413; the session survives", T, async () => {
    const r = await startEngine({ maxHttpBufferSize: 1000 });
    try {
      const { sid, session } = await openPolling(r);
      const messages: Array<string | Buffer> = [];
      session.on("message", (m) => messages.push(m));
      const closes: string[] = [];
      session.on("close", (reason) => closes.push(reason));

      const big = await http(r.port, "POST", pollPath(sid), `4${"a".repeat(1500)}`, {
        "Content-Type": "text/plain;charset=UTF-8",
      });
      assert.equal(big.status, 413);
      assert.deepEqual(json(big), { code: 3, message: "Payload too large" });
      assert.equal(big.headers.connection, "close");
      assert.deepEqual(messages, []);

      // A body of exactly the limit is accepted.
      const exact = await http(r.port, "POST", pollPath(sid), `4${"b".repeat(999)}`, {
        "Content-Type": "text/plain;charset=UTF-8",
      });
      assert.equal(exact.status, 200);
      assert.equal(exact.body, "ok");
      assert.deepEqual(messages, ["b".repeat(999)]);

      // And the session still answers GETs.
      session.send("alive");
      const get = await http(r.port, "GET", pollPath(sid));
      assert.equal(get.status, 200);
      assert.equal(get.body, "4alive");
      assert.deepEqual(closes, []);
      assert.equal(r.engine.clientsCount, 1);
    } finally {
      await r.close();
    }
  });

  test("polling POST above the limit with chunked encoding gets 413; the session survives", T, async () => {
    const r = await startEngine({ maxHttpBufferSize: 1000 });
    try {
      const { sid, session } = await openPolling(r);
      const messages: Array<string | Buffer> = [];
      session.on("message", (m) => messages.push(m));
      const closes: string[] = [];
      session.on("close", (reason) => closes.push(reason));

      // Two chunks each below the limit whose sum is above it.
      const res = await chunkedPost(r.port, pollPath(sid), [
        Buffer.from(`4${"a".repeat(599)}`),
        Buffer.from("a".repeat(600)),
      ]);
      assert.equal(res.status, 413);
      assert.deepEqual(json(res), { code: 3, message: "Payload too large" });
      assert.equal(res.headers["content-length"], String(res.raw.length));
      assert.deepEqual(messages, []);

      // A later POST works (the POST slot was released) and a later GET works.
      const ok = await http(r.port, "POST", pollPath(sid), "4after", { "Content-Type": "text/plain;charset=UTF-8" });
      assert.equal(ok.status, 200);
      assert.equal(ok.body, "ok");
      assert.deepEqual(messages, ["after"]);
      session.send("still here");
      const get = await http(r.port, "GET", pollPath(sid));
      assert.equal(get.status, 200);
      assert.equal(get.body, "4still here");
      assert.deepEqual(closes, []);
    } finally {
      await r.close();
    }
  });

  test("websocket frame above the limit closes the session with 'transport error'", T, async () => {
    const r = await startEngine({ maxHttpBufferSize: 100 });
    const client = new RawWs(wsUrl(r.port));
    try {
      const connected = nextSession(r.engine);
      await client.opened();
      const open = await client.next();
      assert.equal(typeof open, "string");
      assert.equal(JSON.parse((open as string).slice(1)).maxPayload, 100);
      const session = await connected;
      const messages: Array<string | Buffer> = [];
      session.on("message", (m) => messages.push(m));
      const closed = once(session, "close") as Promise<[string, string | undefined]>;

      // A frame of exactly the limit ("4" + 99 characters) is accepted.
      client.send(`4${"x".repeat(99)}`);
      await new Promise<void>((resolve) => session.once("message", () => resolve()));
      assert.deepEqual(messages, ["x".repeat(99)]);

      client.send(`4${"y".repeat(100)}`);
      const [reason] = await closed;
      assert.equal(reason, "transport error");
      assert.equal(await client.waitClosed(), 1009);
      assert.deepEqual(messages, ["x".repeat(99)]);
      assert.equal(r.engine.clientsCount, 0);
    } finally {
      client.ws.terminate();
      await r.close();
    }
  });
});

// =====================================================================================
// 2. CORS
// =====================================================================================

describe("cors", () => {
  const ORIGIN = "https://app.example";

  test("preflight OPTIONS gets 204 with the CORS headers", T, async () => {
    const r = await startCors({ origin: ORIGIN, credentials: true });
    try {
      const res = await http(r.port, "OPTIONS", HANDSHAKE, undefined, {
        Origin: ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
      });
      assert.equal(res.status, 204);
      assert.equal(res.body, "");
      assert.equal(res.headers["access-control-allow-origin"], ORIGIN);
      assert.equal(res.headers["access-control-allow-credentials"], "true");
      assert.equal(res.headers["access-control-allow-methods"], "GET,HEAD,PUT,PATCH,POST,DELETE");
      assert.equal(res.headers["access-control-allow-headers"], "content-type");
      assert.equal(res.headers.vary, "Origin, Access-Control-Request-Headers");
      assert.equal(r.engine.clientsCount, 0);
    } finally {
      await r.close();
    }
  });

  test("handshake GET with the origin gets Access-Control-Allow-Origin and credentials", T, async () => {
    const r = await startCors({ origin: ORIGIN, credentials: true });
    try {
      const res = await http(r.port, "GET", HANDSHAKE, undefined, { Origin: ORIGIN });
      assert.equal(res.status, 200);
      assert.ok(res.body.startsWith("0{"));
      assert.equal(res.headers["access-control-allow-origin"], ORIGIN);
      assert.equal(res.headers["access-control-allow-credentials"], "true");
      assert.equal(res.headers["access-control-allow-methods"], undefined);
      assert.equal(res.headers.vary, "Origin");
    } finally {
      await r.close();
    }
  });

  test("error responses (unknown sid, bad transport) carry the CORS headers", T, async () => {
    const r = await startCors({ origin: ORIGIN, credentials: true });
    try {
      const unknown = await http(r.port, "GET", pollPath("nope"), undefined, { Origin: ORIGIN });
      assert.equal(unknown.status, 400);
      assert.deepEqual(json(unknown), { code: 1, message: "Session ID unknown" });
      assert.equal(unknown.headers["access-control-allow-origin"], ORIGIN);
      assert.equal(unknown.headers["access-control-allow-credentials"], "true");

      const badTransport = await http(r.port, "GET", "/socket.io/?EIO=4&transport=carrier-pigeon", undefined, {
        Origin: ORIGIN,
      });
      assert.equal(badTransport.status, 400);
      assert.deepEqual(json(badTransport), { code: 0, message: "Transport unknown" });
      assert.equal(badTransport.headers["access-control-allow-origin"], ORIGIN);
    } finally {
      await r.close();
    }
  });

  test("an origin list with a RegExp reflects matching origins and omits the header for others", T, async () => {
    const r = await startCors({ origin: ["https://a.example", /\.good\.example$/] });
    try {
      const a = await http(r.port, "GET", HANDSHAKE, undefined, { Origin: "https://a.example" });
      assert.equal(a.status, 200);
      assert.equal(a.headers["access-control-allow-origin"], "https://a.example");
      assert.equal(a.headers.vary, "Origin");

      const sub = await http(r.port, "GET", HANDSHAKE, undefined, { Origin: "https://x.good.example" });
      assert.equal(sub.status, 200);
      assert.equal(sub.headers["access-control-allow-origin"], "https://x.good.example");

      const evil = await http(r.port, "GET", HANDSHAKE, undefined, { Origin: "https://evil.example" });
      assert.equal(evil.status, 200);
      assert.equal(evil.headers["access-control-allow-origin"], undefined);
      assert.equal(evil.headers.vary, "Origin");

      const regexpOnly = await startCors({ origin: /^https:\/\/ok\./ });
      try {
        const ok = await http(regexpOnly.port, "GET", HANDSHAKE, undefined, { Origin: "https://ok.example" });
        assert.equal(ok.headers["access-control-allow-origin"], "https://ok.example");
        const no = await http(regexpOnly.port, "GET", HANDSHAKE, undefined, { Origin: "https://no.example" });
        assert.equal(no.headers["access-control-allow-origin"], undefined);
      } finally {
        await regexpOnly.close();
      }
    } finally {
      await r.close();
    }
  });

  test('origin "*" answers with a wildcard', T, async () => {
    const r = await startCors({ origin: "*" });
    try {
      const res = await http(r.port, "GET", HANDSHAKE, undefined, { Origin: "https://anything.example" });
      assert.equal(res.status, 200);
      assert.equal(res.headers["access-control-allow-origin"], "*");
      assert.equal(res.headers["access-control-allow-credentials"], undefined);
      const pre = await http(r.port, "OPTIONS", HANDSHAKE, undefined, {
        Origin: "https://anything.example",
        "Access-Control-Request-Method": "GET",
      });
      assert.equal(pre.status, 204);
      assert.equal(pre.headers["access-control-allow-origin"], "*");
    } finally {
      await r.close();
    }
  });

  test("an origin function decides per request (callback style)", T, async () => {
    const seen: Array<string | undefined> = [];
    const r = await startCors({
      origin: (origin, callback) => {
        seen.push(origin);
        setImmediate(() => callback(null, origin === "https://fn.example"));
      },
      credentials: true,
    });
    try {
      const ok = await http(r.port, "GET", HANDSHAKE, undefined, { Origin: "https://fn.example" });
      assert.equal(ok.status, 200);
      assert.equal(ok.headers["access-control-allow-origin"], "https://fn.example");
      assert.equal(ok.headers["access-control-allow-credentials"], "true");

      const no = await http(r.port, "GET", HANDSHAKE, undefined, { Origin: "https://other.example" });
      assert.equal(no.status, 200);
      assert.deepEqual(accessControlHeaders(no.headers), []);
      assert.deepEqual(seen, ["https://fn.example", "https://other.example"]);

      const pre = await http(r.port, "OPTIONS", HANDSHAKE, undefined, {
        Origin: "https://fn.example",
        "Access-Control-Request-Method": "POST",
      });
      assert.equal(pre.status, 204);
      assert.equal(pre.headers["access-control-allow-origin"], "https://fn.example");
    } finally {
      await r.close();
    }
  });

  test("without cors no Access-Control-* headers are sent", T, async () => {
    const r = await startEngine();
    try {
      const res = await http(r.port, "GET", HANDSHAKE, undefined, { Origin: ORIGIN });
      assert.equal(res.status, 200);
      assert.deepEqual(accessControlHeaders(res.headers), []);
      const unknown = await http(r.port, "GET", pollPath("nope"), undefined, { Origin: ORIGIN });
      assert.equal(unknown.status, 400);
      assert.deepEqual(accessControlHeaders(unknown.headers), []);
      // No preflight answer either: OPTIONS is not a handshake method.
      const pre = await http(r.port, "OPTIONS", HANDSHAKE, undefined, {
        Origin: ORIGIN,
        "Access-Control-Request-Method": "POST",
      });
      assert.equal(pre.status, 400);
      assert.deepEqual(json(pre), { code: 2, message: "Bad handshake method" });
      assert.deepEqual(accessControlHeaders(pre.headers), []);
    } finally {
      await r.close();
    }
  });
});

// =====================================================================================
// 3. allowRequest
// =====================================================================================

describe("allowRequest", () => {
  const allowRequest: EngineOptions["allowRequest"] = (req, callback) => {
    if (req.headers["x-token"] === "ok") callback(null, true);
    else callback("no token", false);
  };

  test("refusal over polling is 403 {code:4, message} and emits connection_error", T, async () => {
    const r = await startEngine({ allowRequest });
    try {
      const errors: ConnectionError[] = [];
      r.engine.on("connection_error", (e) => errors.push(e));
      const res = await http(r.port, "GET", HANDSHAKE);
      assert.equal(res.status, 403);
      assert.equal(res.headers["content-type"], "application/json");
      assert.deepEqual(json(res), { code: 4, message: "no token" });
      assert.equal(errors.length, 1);
      assert.equal(errors[0]?.code, 4);
      assert.equal(errors[0]?.message, "Forbidden");
      assert.equal(errors[0]?.context.message, "no token");
      assert.equal(errors[0]?.req.url, HANDSHAKE);
      assert.equal(r.engine.clientsCount, 0);
    } finally {
      await r.close();
    }
  });

  test("acceptance lets the handshake through (polling and websocket)", T, async () => {
    const r = await startEngine({ allowRequest });
    let ws: WebSocket | undefined;
    try {
      const res = await http(r.port, "GET", HANDSHAKE, undefined, { "X-Token": "ok" });
      assert.equal(res.status, 200);
      assert.ok(res.body.startsWith("0{"));
      const opened = await openWs(wsUrl(r.port), { "X-Token": "ok" });
      ws = opened.ws;
      assert.equal((await opened.frame(1))[0], "0");
      assert.equal(r.engine.clientsCount, 2);
    } finally {
      if (ws) await closeWs(ws);
      await r.close();
    }
  });

  test("refusal over a websocket handshake gets 403", T, async () => {
    const r = await startEngine({ allowRequest });
    try {
      const errors: ConnectionError[] = [];
      r.engine.on("connection_error", (e) => errors.push(e));
      const message = await wsRefusal(wsUrl(r.port));
      assert.equal(message, "Unexpected server response: 403");
      assert.equal(errors.length, 1);
      assert.equal(errors[0]?.code, 4);
      assert.equal(errors[0]?.message, "Forbidden");
      assert.equal(errors[0]?.context.message, "no token");
      assert.equal(r.engine.clientsCount, 0);
    } finally {
      await r.close();
    }
  });

  test("the official client is refused (error + close) or accepted (open) by allowRequest", T, async () => {
    const r = await startEngine({ allowRequest });
    const refused = newClient(r.port, { transports: ["polling"] });
    let accepted: ClientSocket | undefined;
    try {
      const events: string[] = [];
      await new Promise<void>((resolve) => {
        refused.on("open", () => events.push("open"));
        refused.on("error", () => events.push("error"));
        refused.on("close", (reason) => {
          events.push(`close:${reason}`);
          resolve();
        });
      });
      assert.deepEqual(events, ["error", "close:transport error"]);

      accepted = newClient(r.port, { extraHeaders: { "x-token": "ok" } });
      await clientOpen(accepted);
      assert.equal(typeof accepted.id, "string");
      assert.equal(r.engine.clients.has(accepted.id as string), true);
    } finally {
      await closeClient(refused);
      if (accepted) await closeClient(accepted);
      await r.close();
    }
  });
});

// =====================================================================================
// 4. attach beside another HTTP handler
// =====================================================================================

describe("attach beside an app", () => {
  async function startApp(opts: EngineOptions = {}): Promise<{ server: Server; r: Running }> {
    const server = createServer((req, res) => {
      res.writeHead(200, { "Content-Type": "text/plain" });
      res.end(`app:${req.method} ${req.url}`);
    });
    const engine = new EngineServer(opts).attach(server);
    engine.on("connection", (session) => session.on("message", (m) => session.send(m)));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return { server, r: running(engine, server) };
  }

  test("requests outside the path reach the app; under it reach the engine; the client upgrades", T, async () => {
    const { server, r } = await startApp();
    let client: ClientSocket | undefined;
    try {
      const app = await http(r.port, "GET", "/hello?x=1");
      assert.equal(app.status, 200);
      assert.equal(app.body, "app:GET /hello?x=1");
      const nearMiss = await http(r.port, "GET", "/socket.io?EIO=4&transport=polling");
      assert.equal(nearMiss.body, "app:GET /socket.io?EIO=4&transport=polling");

      const engineRes = await http(r.port, "GET", HANDSHAKE);
      assert.equal(engineRes.status, 200);
      assert.ok(engineRes.body.startsWith("0{"));

      const connected = nextSession(r.engine);
      const c = newClient(r.port);
      client = c;
      const upgraded = new Promise<string>((resolve) => c.once("upgrade", (t) => resolve(t.name)));
      const opened = clientOpen(c);
      const session = await connected;
      const serverUpgraded = once(session, "upgrade");
      await opened;
      assert.equal(session.id, c.id);
      assert.equal(c.transport.name, "polling");
      assert.equal(await upgraded, "websocket");
      await serverUpgraded;
      assert.equal(session.transport.name, "websocket");
      assert.equal(session.upgraded, true);
      const echoed = clientMessage(c);
      c.send("over websocket");
      assert.equal(await echoed, "over websocket");
    } finally {
      if (client) await closeClient(client);
      await r.close();
      await closeHttpServer(server);
    }
  });

  test("without an app handler, other paths get 404", T, async () => {
    const r = await startEngine();
    try {
      const res = await http(r.port, "GET", "/elsewhere");
      assert.equal(res.status, 404);
      assert.equal(res.body, "Not Found");
    } finally {
      await r.close();
    }
  });

  test("an upgrade outside the path that nobody answers is destroyed", T, async () => {
    const clock = new FakeClock();
    const { server, r } = await startApp({ destroyUpgradeTimeout: 50, clock });
    try {
      const socket = netConnect(r.port, "127.0.0.1");
      await once(socket, "connect");
      const received: Buffer[] = [];
      socket.on("data", (d: Buffer) => received.push(d));
      socket.on("error", () => {});
      const upgrade = once(server, "upgrade");
      socket.write(
        "GET /not-the-engine HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
          "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
      );
      await upgrade;
      assert.equal(clock.pending, 1, "the destroy timer");
      clock.advance(50);
      await once(socket, "close");
      assert.equal(Buffer.concat(received).length, 0);
    } finally {
      await r.close();
      await closeHttpServer(server);
    }
  });

  test("an upgrade outside the path answered by the app's own listener is left alone", T, async () => {
    const clock = new FakeClock();
    const { server, r } = await startApp({ destroyUpgradeTimeout: 50, clock });
    const appWss = new WebSocketServer({ noServer: true });
    server.on("upgrade", (req, socket, head) => {
      if (req.url === "/app-ws") {
        appWss.handleUpgrade(req, socket, head, (ws) => {
          ws.on("message", (m) => ws.send(`echo:${String(m)}`));
        });
      }
    });
    let ws: WebSocket | undefined;
    try {
      ws = (await openWs(`ws://127.0.0.1:${r.port}/app-ws`)).ws;
      const closed: number[] = [];
      ws.on("close", (code) => closed.push(code));
      assert.equal(clock.pending, 1, "the destroy timer");
      clock.advance(50); // it fires, and finds the socket answered
      assert.equal(clock.pending, 0);
      assert.equal(ws.readyState, WebSocket.OPEN);
      const reply = once(ws, "message") as Promise<[Buffer]>;
      ws.send("hi");
      assert.equal(String((await reply)[0]), "echo:hi");
      assert.deepEqual(closed, []);
    } finally {
      if (ws) await closeWs(ws);
      appWss.close();
      await r.close();
      await closeHttpServer(server);
    }
  });
});

// =====================================================================================
// 5. cookie
// =====================================================================================

describe("cookie", () => {
  test("off by default", T, async () => {
    const r = await startEngine();
    try {
      const res = await http(r.port, "GET", HANDSHAKE);
      assert.equal(res.status, 200);
      assert.equal(res.headers["set-cookie"], undefined);
    } finally {
      await r.close();
    }
  });

  test("cookie: true sets io=<sid>; Path=/; HttpOnly; SameSite=Lax on the handshake only", T, async () => {
    const r = await startEngine({ cookie: true });
    try {
      const res = await http(r.port, "GET", HANDSHAKE);
      assert.equal(res.status, 200);
      const sid = (JSON.parse(res.body.slice(1)) as { sid: string }).sid;
      assert.deepEqual(res.headers["set-cookie"], [`io=${sid}; Path=/; HttpOnly; SameSite=Lax`]);
      r.engine.clients.get(sid)?.send("x");
      const get = await http(r.port, "GET", pollPath(sid));
      assert.equal(get.body, "4x");
      assert.equal(get.headers["set-cookie"], undefined);
    } finally {
      await r.close();
    }
  });

  test("custom name, path and sameSite; path false drops Path and HttpOnly", T, async () => {
    const r = await startEngine({ cookie: { name: "sess", path: "/app", sameSite: "strict" } });
    const r2 = await startEngine({ cookie: { name: "nopath", path: false } });
    try {
      const res = await http(r.port, "GET", HANDSHAKE);
      const sid = (JSON.parse(res.body.slice(1)) as { sid: string }).sid;
      assert.deepEqual(res.headers["set-cookie"], [`sess=${sid}; Path=/app; HttpOnly; SameSite=Strict`]);

      const res2 = await http(r2.port, "GET", HANDSHAKE);
      const sid2 = (JSON.parse(res2.body.slice(1)) as { sid: string }).sid;
      assert.deepEqual(res2.headers["set-cookie"], [`nopath=${sid2}; SameSite=Lax`]);
    } finally {
      await r.close();
      await r2.close();
    }
  });
});

// =====================================================================================
// 6. httpCompression
// =====================================================================================

describe("httpCompression", () => {
  const big = "z".repeat(5000);

  test("a payload above the threshold is gzipped when the client accepts gzip", T, async () => {
    const r = await startEngine();
    try {
      const { sid, session } = await openPolling(r);
      session.send(big);
      const res = await http(r.port, "GET", pollPath(sid), undefined, { "Accept-Encoding": "gzip" });
      assert.equal(res.status, 200);
      assert.equal(res.headers["content-encoding"], "gzip");
      assert.equal(res.headers["content-length"], String(res.raw.length));
      assert.ok(res.raw.length < big.length);
      assert.equal(gunzipSync(res.raw).toString("utf8"), `4${big}`);

      session.send(big);
      const deflated = await http(r.port, "GET", pollPath(sid), undefined, { "Accept-Encoding": "deflate" });
      assert.equal(deflated.headers["content-encoding"], "deflate");
      assert.equal(inflateSync(deflated.raw).toString("utf8"), `4${big}`);
    } finally {
      await r.close();
    }
  });

  test("a payload below the threshold is not compressed", T, async () => {
    const r = await startEngine();
    try {
      const { sid, session } = await openPolling(r);
      const small = "s".repeat(500);
      session.send(small);
      const res = await http(r.port, "GET", pollPath(sid), undefined, { "Accept-Encoding": "gzip" });
      assert.equal(res.status, 200);
      assert.equal(res.headers["content-encoding"], undefined);
      assert.equal(res.body, `4${small}`);
      assert.equal(res.headers["content-length"], String(small.length + 1));
    } finally {
      await r.close();
    }
  });

  test("a custom threshold applies", T, async () => {
    const r = await startEngine({ httpCompression: { threshold: 10 } });
    try {
      const { sid, session } = await openPolling(r);
      session.send("0123456789abc");
      const res = await http(r.port, "GET", pollPath(sid), undefined, { "Accept-Encoding": "gzip" });
      assert.equal(res.headers["content-encoding"], "gzip");
      assert.equal(gunzipSync(res.raw).toString("utf8"), "40123456789abc");
    } finally {
      await r.close();
    }
  });

  test("Accept-Encoding q=0 is honoured (gzip;q=0 refuses gzip)", {
    ...T,
  }, async () => {
    const r = await startEngine();
    try {
      const { sid, session } = await openPolling(r);
      session.send(big);
      const res = await http(r.port, "GET", pollPath(sid), undefined, { "Accept-Encoding": "gzip;q=0, deflate" });
      assert.equal(res.status, 200);
      assert.equal(res.headers["content-encoding"], "deflate");
      assert.equal(inflateSync(res.raw).toString("utf8"), `4${big}`);
    } finally {
      await r.close();
    }
  });

  test("httpCompression: false never compresses", T, async () => {
    const r = await startEngine({ httpCompression: false });
    try {
      const { sid, session } = await openPolling(r);
      session.send(big);
      const res = await http(r.port, "GET", pollPath(sid), undefined, { "Accept-Encoding": "gzip, deflate" });
      assert.equal(res.status, 200);
      assert.equal(res.headers["content-encoding"], undefined);
      assert.equal(res.body, `4${big}`);
    } finally {
      await r.close();
    }
  });

  test("send(data, {compress: false}) is not compressed", T, async () => {
    const r = await startEngine();
    try {
      const { sid, session } = await openPolling(r);
      session.send(big, { compress: false });
      const res = await http(r.port, "GET", pollPath(sid), undefined, { "Accept-Encoding": "gzip" });
      assert.equal(res.status, 200);
      assert.equal(res.headers["content-encoding"], undefined);
      assert.equal(res.body, `4${big}`);
    } finally {
      await r.close();
    }
  });
});

// =====================================================================================
// 7. perMessageDeflate
// =====================================================================================

describe("perMessageDeflate", () => {
  test("the official client exchanges a large text message over a deflated websocket", T, async () => {
    const r = await startEcho({ perMessageDeflate: true });
    const client = newClient(r.port, { transports: ["websocket"] });
    try {
      await clientOpen(client);
      assert.equal(client.transport.name, "websocket");
      const large = "lorem ipsum ".repeat(20_000);
      const echoed = clientMessage(client);
      client.send(large);
      assert.equal(await echoed, large);
    } finally {
      await closeClient(client);
      await r.close();
    }
  });

  test("the extension is negotiated and shrinks what the server writes; off by default", T, async () => {
    const payload = "w".repeat(100_000);
    for (const perMessageDeflate of [true, false]) {
      const r = await startEngine({ perMessageDeflate });
      let ws: WebSocket | undefined;
      try {
        const connected = nextSession(r.engine);
        const opened = await openWs(wsUrl(r.port));
        ws = opened.ws;
        const session = await connected;
        await opened.frame(1);
        const socket = session.request.socket;
        const before = socket.bytesWritten;
        session.send(payload);
        assert.equal(await opened.frame(2), `4${payload}`);
        const written = socket.bytesWritten - before;
        if (perMessageDeflate) {
          assert.match(String(opened.headers["sec-websocket-extensions"]), /^permessage-deflate/);
          assert.ok(written < 10_000, `expected a deflated frame, ${written} bytes written`);
        } else {
          assert.equal(opened.headers["sec-websocket-extensions"], undefined);
          assert.ok(written > payload.length, `expected a plain frame, ${written} bytes written`);
        }
      } finally {
        if (ws) await closeWs(ws);
        await r.close();
      }
    }
  });
});

// =====================================================================================
// 8. transports / allowUpgrades
// =====================================================================================

describe("transports and allowUpgrades", () => {
  test('transports: ["websocket"] refuses a polling handshake with 400 {code:0}', T, async () => {
    const r = await startEngine({ transports: ["websocket"] });
    try {
      const res = await http(r.port, "GET", HANDSHAKE);
      assert.equal(res.status, 400);
      assert.deepEqual(json(res), { code: 0, message: "Transport unknown" });
      assert.equal(r.engine.clientsCount, 0);
    } finally {
      await r.close();
    }
  });

  test('transports: ["websocket"] accepts the official client on websocket', T, async () => {
    const r = await startEcho({ transports: ["websocket"] });
    const client = newClient(r.port, { transports: ["websocket"] });
    try {
      await clientOpen(client);
      assert.equal(client.transport.name, "websocket");
      const echoed = clientMessage(client);
      client.send("ws only");
      assert.equal(await echoed, "ws only");
      assert.equal(r.engine.clients.get(client.id as string)?.transport.name, "websocket");
    } finally {
      await closeClient(client);
      await r.close();
    }
  });

  test(
    "allowUpgrades: false advertises no upgrades, refuses the probe, and the client stays on polling",
    T,
    async () => {
      const r = await startEcho({ allowUpgrades: false });
      let client: ClientSocket | undefined;
      try {
        const { sid, open } = await pollingHandshake(r.port);
        assert.deepEqual(open.upgrades, []);
        const refusal = await wsRefusal(wsUrl(r.port, `&sid=${sid}`));
        assert.equal(refusal, "Unexpected server response: 400");

        const c = newClient(r.port);
        client = c;
        const upgrades: string[] = [];
        c.on("upgrading", (t) => upgrades.push(t.name));
        await clientOpen(c);
        for (const text of ["one", "two"]) {
          const echoed = clientMessage(c);
          c.send(text);
          assert.equal(await echoed, text);
        }
        assert.equal(c.transport.name, "polling");
        assert.deepEqual(upgrades, []);
        const session = r.engine.clients.get(c.id as string);
        assert.equal(session?.transport.name, "polling");
        assert.equal(session?.upgraded, false);
        assert.equal(session?.upgrading, false);
      } finally {
        if (client) await closeClient(client);
        await r.close();
      }
    },
  );

  test("by default the handshake advertises the websocket upgrade", T, async () => {
    const r = await startEngine();
    try {
      const { open } = await pollingHandshake(r.port);
      assert.deepEqual(open.upgrades, ["websocket"]);
    } finally {
      await r.close();
    }
  });
});

// =====================================================================================
// 9. initial_headers / headers
// =====================================================================================

describe("initial_headers and headers events", () => {
  function withHeaderListeners(engine: EngineServer): void {
    engine.on("initial_headers", (headers) => {
      headers["X-Initial"] = "first";
    });
    engine.on("headers", (headers, req) => {
      headers["X-Every"] = req.method ?? "?";
    });
  }

  test("polling: initial_headers on the handshake only, headers on every response", T, async () => {
    const r = await startEngine();
    withHeaderListeners(r.engine);
    try {
      const res = await http(r.port, "GET", HANDSHAKE);
      assert.equal(res.status, 200);
      assert.equal(res.headers["x-initial"], "first");
      assert.equal(res.headers["x-every"], "GET");
      const sid = (JSON.parse(res.body.slice(1)) as { sid: string }).sid;

      const post = await http(r.port, "POST", pollPath(sid), "4hi", { "Content-Type": "text/plain;charset=UTF-8" });
      assert.equal(post.status, 200);
      assert.equal(post.headers["x-initial"], undefined);
      assert.equal(post.headers["x-every"], "POST");

      r.engine.clients.get(sid)?.send("x");
      const get = await http(r.port, "GET", pollPath(sid));
      assert.equal(get.body, "4x");
      assert.equal(get.headers["x-initial"], undefined);
      assert.equal(get.headers["x-every"], "GET");
    } finally {
      await r.close();
    }
  });

  test("websocket: headers appear on the 101 response (initial only on a handshake)", T, async () => {
    const r = await startEngine();
    withHeaderListeners(r.engine);
    const sockets: WebSocket[] = [];
    try {
      const direct = await openWs(wsUrl(r.port));
      sockets.push(direct.ws);
      assert.equal(direct.headers["x-initial"], "first");
      assert.equal(direct.headers["x-every"], "GET");

      const { sid } = await pollingHandshake(r.port);
      const upgrade = await openWs(wsUrl(r.port, `&sid=${sid}`));
      sockets.push(upgrade.ws);
      assert.equal(upgrade.headers["x-initial"], undefined);
      assert.equal(upgrade.headers["x-every"], "GET");
    } finally {
      for (const ws of sockets) await closeWs(ws);
      await r.close();
    }
  });
});

// =====================================================================================
// 10. engine.use(middleware)
// =====================================================================================

describe("engine.use", () => {
  test("a middleware runs for every polling request and can set headers", T, async () => {
    const r = await startEngine();
    const seen: string[] = [];
    r.engine.use((req, res, next) => {
      seen.push(`${req.method} ${req.url}`);
      res.setHeader("X-Middleware", "ran");
      next();
    });
    try {
      const res = await http(r.port, "GET", HANDSHAKE);
      assert.equal(res.status, 200);
      assert.equal(res.headers["x-middleware"], "ran");
      const sid = (JSON.parse(res.body.slice(1)) as { sid: string }).sid;
      const post = await http(r.port, "POST", pollPath(sid), "4hi", { "Content-Type": "text/plain;charset=UTF-8" });
      assert.equal(post.status, 200);
      assert.equal(post.headers["x-middleware"], "ran");
      assert.deepEqual(seen, [`GET ${HANDSHAKE}`, `POST ${pollPath(sid)}`]);
    } finally {
      await r.close();
    }
  });

  test("a failing middleware makes the handshake fail with 400 {code:3} (polling and websocket)", T, async () => {
    const r = await startEngine();
    const errors: ConnectionError[] = [];
    r.engine.on("connection_error", (e) => errors.push(e));
    r.engine.use((_req, _res, next) => next(new Error("nope")));
    try {
      const res = await http(r.port, "GET", HANDSHAKE);
      assert.equal(res.status, 400);
      assert.deepEqual(json(res), { code: 3, message: "Bad request" });
      assert.equal(await wsRefusal(wsUrl(r.port)), "Unexpected server response: 400");
      assert.deepEqual(
        errors.map((e) => [e.code, e.context.name]),
        [
          [3, "MIDDLEWARE_FAILURE"],
          [3, "MIDDLEWARE_FAILURE"],
        ],
      );
      assert.equal(r.engine.clientsCount, 0);
    } finally {
      await r.close();
    }
  });

  test("a header set by a middleware appears on the websocket 101 response (engine.io parity)", {
    ...T,
  }, async () => {
    const r = await startEngine();
    r.engine.use((_req, res, next) => {
      res.setHeader("X-Middleware", "ran");
      next();
    });
    let ws: WebSocket | undefined;
    try {
      const opened = await openWs(wsUrl(r.port));
      ws = opened.ws;
      assert.equal(opened.headers["x-middleware"], "ran");
    } finally {
      if (ws) await closeWs(ws);
      await r.close();
    }
  });
});

// =====================================================================================
// 11. maxBufferedBytes
// =====================================================================================

describe("maxBufferedBytes", () => {
  test("a polling session that never polls closes with 'slow consumer'; others are unaffected", T, async () => {
    const r = await startEngine({ maxBufferedBytes: 10_000 });
    try {
      const slow = await openPolling(r);
      const other = await openPolling(r);
      assert.equal(r.engine.clientsCount, 2);
      const closes: Array<[string, number]> = [];
      let sent = 0;
      slow.session.on("close", (reason) => closes.push([reason, sent]));
      const otherCloses: string[] = [];
      other.session.on("close", (reason) => otherCloses.push(reason));

      // What is queued in one turn for a client with nothing waiting always goes; from the next
      // turn on, with the first packet still unread, each packet is checked.
      for (sent = 0; sent < 20; sent++) {
        slow.session.send("m".repeat(1000));
        if (sent === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      // Each packet counts 1001 bytes: nine fit in 10 000, the tenth (index 9) does not.
      assert.deepEqual(closes, [["slow consumer", 9]]);
      assert.equal(slow.session.readyState, "closed");
      assert.equal(r.engine.clientsCount, 1);
      assert.equal(r.engine.clients.has(slow.sid), false);

      const gone = await http(r.port, "GET", pollPath(slow.sid));
      assert.equal(gone.status, 400);
      assert.deepEqual(json(gone), { code: 1, message: "Session ID unknown" });

      other.session.send("fine");
      const get = await http(r.port, "GET", pollPath(other.sid));
      assert.equal(get.status, 200);
      assert.equal(get.body, "4fine");
      assert.deepEqual(otherCloses, []);
      assert.equal(other.session.readyState, "open");
    } finally {
      await r.close();
    }
  });
});

// =====================================================================================
// 12. generateId
// =====================================================================================

describe("generateId", () => {
  test("custom ids become the sid on polling, websocket and the official client", T, async () => {
    let n = 0;
    const r = await startEngine({ generateId: (req) => `custom-${++n}-${req.method}` });
    let ws: WebSocket | undefined;
    let client: ClientSocket | undefined;
    try {
      const { sid } = await pollingHandshake(r.port);
      assert.equal(sid, "custom-1-GET");
      assert.equal(r.engine.clients.get(sid)?.id, sid);

      const opened = await openWs(wsUrl(r.port));
      ws = opened.ws;
      assert.equal((JSON.parse((await opened.frame(1)).slice(1)) as { sid: string }).sid, "custom-2-GET");

      client = newClient(r.port);
      await clientOpen(client);
      assert.equal(client.id, "custom-3-GET");
      assert.deepEqual([...r.engine.clients.keys()].sort(), ["custom-1-GET", "custom-2-GET", "custom-3-GET"]);
    } finally {
      if (ws) await closeWs(ws);
      if (client) await closeClient(client);
      await r.close();
    }
  });

  test("a throwing generateId refuses the polling handshake with 400 {code:3}", T, async () => {
    const r = await startEngine({
      generateId: () => {
        throw new Error("no ids today");
      },
    });
    const errors: ConnectionError[] = [];
    r.engine.on("connection_error", (e) => errors.push(e));
    try {
      const res = await http(r.port, "GET", HANDSHAKE);
      assert.equal(res.status, 400);
      assert.deepEqual(json(res), { code: 3, message: "Bad request" });
      assert.equal(r.engine.clientsCount, 0);
      assert.deepEqual(
        errors.map((e) => [e.code, e.context.name]),
        [[3, "ID_GENERATION_ERROR"]],
      );
    } finally {
      await r.close();
    }
  });

  test("a throwing generateId on a websocket handshake emits connection_error too (engine.io parity)", {
    ...T,
  }, async () => {
    const r = await startEngine({
      generateId: () => {
        throw new Error("no ids today");
      },
    });
    const errors: ConnectionError[] = [];
    r.engine.on("connection_error", (e) => errors.push(e));
    const ws = new WebSocket(wsUrl(r.port));
    const refused = new Promise<number>((resolve) =>
      ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0)),
    );
    ws.on("error", () => {});
    try {
      // refused before the upgrade: the id is generated before the 101
      assert.equal(await refused, 400);
      assert.equal(r.engine.clientsCount, 0);
      assert.deepEqual(
        errors.map((e) => [e.code, e.context.name]),
        [[3, "ID_GENERATION_ERROR"]],
      );
    } finally {
      ws.terminate();
      await r.close();
    }
  });
});
