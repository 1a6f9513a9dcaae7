import assert from "node:assert/strict";
import { createServer, type IncomingMessage, request, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, test } from "node:test";
import session from "express-session";
import { type Socket as ClientSocket, io as ioClient } from "socket.io-client";
import { type EngineMiddleware, Server, type Socket } from "../src/index.js";
import { TRANSPORT_MODES, TRANSPORTS, type TransportMode, waitFor } from "./sio-helpers.js";

type EngineRequest = Parameters<EngineMiddleware>[0];
type LoggedIn = EngineRequest & { session: { user?: string }; user?: string };

// socket.io's passport example: engine middlewares run for the handshake only, told apart from
// a session's later requests by `req._query.sid`.
function onlyForHandshake(middleware: EngineMiddleware): EngineMiddleware {
  return (req, res, next) => {
    if (req._query.sid === undefined) middleware(req, res, next);
    else next();
  };
}

/** The status a refused client reports: polling gives it as a number, ws in its error's message. */
function refusedStatus(err: Error & { description?: unknown }): number | undefined {
  const description = err.description;
  if (typeof description === "number") return description;
  const match = /Unexpected server response: (\d+)/.exec(String((description as { message?: unknown })?.message));
  return match === null ? undefined : Number(match[1]);
}

/**
 * An app built like socket.io's passport / express-session examples: POST /login starts a
 * session; the engine middlewares load it, set `req.user` from it (passport.session()'s part)
 * and answer 401 to a handshake without a user.
 */
async function startApp(): Promise<{
  io: Server;
  port: number;
  login(): Promise<string>;
  close(): Promise<void>;
}> {
  const sessionMiddleware = session({ secret: "a test secret", resave: false, saveUninitialized: false });
  const httpServer = createServer((req, res) => {
    sessionMiddleware(req as never, res as never, () => {
      (req as unknown as LoggedIn).session.user = "ada";
      res.end("logged in");
    });
  });
  const io = new Server(httpServer);
  io.engine.use(onlyForHandshake(sessionMiddleware as unknown as EngineMiddleware));
  io.engine.use(
    onlyForHandshake((req, _res, next) => {
      const user = (req as LoggedIn).session?.user;
      if (user !== undefined) (req as LoggedIn).user = user;
      next();
    }),
  );
  io.engine.use(
    onlyForHandshake((req, res, next) => {
      if ((req as LoggedIn).user !== undefined) next();
      else {
        res.writeHead(401);
        res.end();
      }
    }),
  );
  await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  const port = (httpServer.address() as AddressInfo).port;
  return {
    io,
    port,
    login: () =>
      new Promise((resolve, reject) => {
        request(`http://127.0.0.1:${port}/login`, { method: "POST" }, (res: IncomingMessage) => {
          res.resume();
          const cookie = res.headers["set-cookie"]?.[0]?.split(";")[0];
          if (cookie === undefined) reject(new Error("no session cookie"));
          else resolve(cookie);
        })
          .on("error", reject)
          .end();
      }),
    close: async () => {
      await io.close();
      httpServer.closeAllConnections();
    },
  };
}

function client(port: number, mode: TransportMode, cookie?: string): ClientSocket {
  return ioClient(`http://127.0.0.1:${port}`, {
    forceNew: true,
    reconnection: false,
    transports: [...TRANSPORTS[mode]],
    ...(cookie === undefined ? {} : { extraHeaders: { cookie } }),
  });
}

describe("auth through engine middlewares (socket.io's passport example)", () => {
  for (const mode of TRANSPORT_MODES) {
    test(`over ${mode}: a logged-in user connects; a stranger gets the app's 401, not 400`, async () => {
      const app = await startApp();
      const sockets: ClientSocket[] = [];
      try {
        const joined = waitFor<[Socket]>(app.io, "connection");
        const cookie = await app.login();
        const ada = client(app.port, mode, cookie);
        sockets.push(ada);
        const [socket] = await joined;
        const req = socket.request as LoggedIn;
        assert.equal(req.user, "ada");
        assert.equal(req._query.EIO, "4");
        assert.equal(req._query.sid, undefined);
        assert.equal(req._query.transport, TRANSPORTS[mode][0]);
        socket.on("whoami", (ack: (user: unknown) => void) => ack((socket.request as LoggedIn).user));
        assert.equal(await ada.timeout(5000).emitWithAck("whoami"), "ada");

        const stranger = client(app.port, mode);
        sockets.push(stranger);
        const [err] = await waitFor<[Error & { description?: unknown }]>(stranger, "connect_error");
        assert.equal(refusedStatus(err), 401);
      } finally {
        for (const s of sockets) s.disconnect();
        await app.close();
      }
    });
  }

  test("a middleware's next(err) refuses the handshake with 400 MIDDLEWARE_FAILURE, as engine.io does", async () => {
    const app = await startApp();
    app.io.engine.use((req: EngineRequest, _res: ServerResponse, next) => {
      next(req._query.EIO === "4" ? new Error("refused") : undefined);
    });
    const errors: Array<{ context: Record<string, unknown> }> = [];
    app.io.engine.on("connection_error", (e) => errors.push(e));
    const sockets: ClientSocket[] = [];
    try {
      const cookie = await app.login();
      const ada = client(app.port, "polling", cookie);
      sockets.push(ada);
      const [err] = await waitFor<[Error & { description?: unknown }]>(ada, "connect_error");
      assert.equal(refusedStatus(err), 400);
      assert.equal(errors[0]?.context.name, "MIDDLEWARE_FAILURE");
    } finally {
      for (const s of sockets) s.disconnect();
      await app.close();
    }
  });
});

/** Records the `_query` each engine middleware call sees, and listens on a free port. */
async function recordQueries(
  io: Server,
  httpServer: ReturnType<typeof createServer>,
): Promise<{ seen: Array<Record<string, string>>; port: number }> {
  const seen: Array<Record<string, string>> = [];
  io.engine.use((req, _res, next) => {
    seen.push(req._query);
    next();
  });
  await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  return { seen, port: (httpServer.address() as AddressInfo).port };
}

describe("req._query", () => {
  test("is the parsed query, set before the middlewares, and survives the request snapshot", async () => {
    const httpServer = createServer();
    const io = new Server(httpServer);
    const { seen, port } = await recordQueries(io, httpServer);
    const joined = waitFor<[Socket]>(io, "connection");
    const ada = ioClient(`http://127.0.0.1:${port}`, {
      forceNew: true,
      reconnection: false,
      transports: ["websocket"],
      query: { room: "a" },
    });
    try {
      const [socket] = await joined;
      assert.deepEqual(seen[0], { room: "a", EIO: "4", transport: "websocket" });
      const req = socket.request as EngineRequest;
      // the snapshot (no middleware set anything) drops the WebSocket handshake headers...
      assert.equal(req.headers["sec-websocket-key"], undefined);
      // ...and keeps the query apps read there
      assert.deepEqual({ ...req._query }, { room: "a", EIO: "4", transport: "websocket" });
      assert.deepEqual(socket.handshake.query, { room: "a", EIO: "4", transport: "websocket" });
    } finally {
      ada.disconnect();
      await io.close();
      httpServer.closeAllConnections();
    }
  });

  test("a _query set before the engine (connect's query parser) is left as it is", async () => {
    const httpServer = createServer();
    const io = new Server(httpServer);
    const engineListener = httpServer.listeners("request")[0] as (req: IncomingMessage, res: ServerResponse) => void;
    httpServer.removeAllListeners("request");
    httpServer.on("request", (req: IncomingMessage, res: ServerResponse) => {
      (req as EngineRequest)._query = { from: "connect", EIO: "4", transport: "polling" };
      engineListener(req, res);
    });
    const { seen, port } = await recordQueries(io, httpServer);
    const ada = ioClient(`http://127.0.0.1:${port}`, { forceNew: true, reconnection: false, transports: ["polling"] });
    try {
      await waitFor(ada, "connect");
      assert.deepEqual(seen[0], { from: "connect", EIO: "4", transport: "polling" });
    } finally {
      ada.disconnect();
      await io.close();
      httpServer.closeAllConnections();
    }
  });

  test("repeated keys: the last value wins in _query, as engine.io's parse", async () => {
    const httpServer = createServer();
    const io = new Server(httpServer);
    const { seen, port } = await recordQueries(io, httpServer);
    try {
      await new Promise<void>((resolve, reject) => {
        request(`http://127.0.0.1:${port}/socket.io/?EIO=4&transport=polling&k=1&k=2`, (res) => {
          res.resume();
          res.on("end", resolve);
        })
          .on("error", reject)
          .end();
      });
      assert.deepEqual(seen[0], { EIO: "4", transport: "polling", k: "2" });
    } finally {
      await io.close();
      httpServer.closeAllConnections();
    }
  });
});
