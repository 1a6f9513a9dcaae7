// Run by package.test.ts with plain `node`, and with `--no-experimental-require-module` (Node
// before 20.19, where require() of an ES module fails): every CommonJS form of "tutti",
// from the packed package. Prints one JSON line of results.
"use strict";
const { createHmac } = require("node:crypto");
const { once } = require("node:events");
const { createServer } = require("node:http");
const tutti = require("tutti");
const { Server, jwt } = require("tutti");
const { io: connect } = require("socket.io-client");

const SECRET = "a secret of at least thirty-two bytes!";

/** An HS256 JWT, signed here so that this check loads jose only through Tutti. */
function sign(payload) {
  const part = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const body = `${part({ alg: "HS256", typ: "JWT" })}.${part(payload)}`;
  return `${body}.${createHmac("sha256", SECRET).update(body).digest("base64url")}`;
}

/** Connects the official client, emits "hello" and returns the ack (or the connect error's data). */
async function hello(port, auth) {
  const client = connect(`http://127.0.0.1:${port}`, { transports: ["websocket"], reconnection: false, auth });
  try {
    await new Promise((resolve, reject) => {
      client.once("connect", resolve);
      client.once("connect_error", reject);
    });
    return await client.timeout(5000).emitWithAck("hello", "ada");
  } catch (err) {
    return { connectError: err.data ?? err.message };
  } finally {
    client.close();
  }
}

function greet(io) {
  io.on("connection", (socket) => {
    socket.on("hello", (name, ack) => ack(`hi ${name}${socket.data.claims ? ` (${socket.data.claims.sub})` : ""}`));
  });
  return io;
}

async function closed(io) {
  await new Promise((resolve) => io.close(() => resolve()));
}

async function main() {
  const results = {};
  results.sameServer = tutti.Server === Server;

  // require("tutti")(httpServer, opts): socket.io's chat example
  const httpServer = createServer();
  const io = greet(tutti(httpServer, { connectTimeout: 5000 }));
  results.callableMakesServer = io instanceof Server;
  httpServer.listen(0);
  await once(httpServer, "listening");
  const port = httpServer.address().port;
  results.callable = await hello(port);
  const bundle = await fetch(`http://127.0.0.1:${port}/socket.io/socket.io.min.js`);
  results.bundle = [bundle.status, bundle.headers.get("content-type"), (await bundle.text()).length > 1000];
  await closed(io);

  // require("tutti")(port)
  const byPort = greet(tutti(0));
  if (!byPort.httpServer.listening) await once(byPort.httpServer, "listening");
  results.port = await hello(byPort.httpServer.address().port);
  await closed(byPort);

  // new Server(port, opts) from require("tutti").Server, and new (require("tutti"))(port)
  const constructed = greet(new Server(0, { connectTimeout: 5000 }));
  if (!constructed.httpServer.listening) await once(constructed.httpServer, "listening");
  results.constructor = await hello(constructed.httpServer.address().port);
  await closed(constructed);
  const newed = new tutti(0);
  results.newCallable = newed instanceof Server;
  await closed(newed);

  // the jwt guard: jose is loaded by import() on first use
  const guarded = greet(tutti(0));
  guarded.use(jwt({ secret: SECRET }));
  if (!guarded.httpServer.listening) await once(guarded.httpServer, "listening");
  const guardedPort = guarded.httpServer.address().port;
  results.jwt = await hello(guardedPort, { token: sign({ sub: "ada", exp: Math.floor(Date.now() / 1000) + 60 }) });
  results.jwtRefused = await hello(guardedPort, { token: `${sign({ sub: "ada" })}x` });
  await closed(guarded);

  process.stdout.write(`${JSON.stringify(results)}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
