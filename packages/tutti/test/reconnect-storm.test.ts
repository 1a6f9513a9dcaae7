import assert from "node:assert/strict";
import { fork } from "node:child_process";
import { once } from "node:events";
import type { Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { type ConnectionError, Server } from "../src/index.js";
import type { StormCommand, StormReport } from "./storm-clients.js";

/**
 * Clients per child process. A process may hold 20,000 open files here, and a polling client
 * holds up to three sockets at once (see storm-clients.ts); several children also spread the
 * clients' CPU, which is most of a polling-first storm's, over both cores.
 */
const PER_CHILD = 2_500;

/** See the polling-first test's comment for why not 10,000. */
const POLLING_CLIENTS = 2_000;

/** `clients` split evenly over as few children as hold at most `PER_CHILD` each. */
function shares(clients: number): number[] {
  const children = Math.ceil(clients / PER_CHILD);
  return Array.from({ length: children }, (_, i) => Math.floor((clients + i) / children));
}

/**
 * Opens `clients` official clients at once against a Tutti server on default options, from
 * children of `PER_CHILD` clients each, and checks that all get in with no 429. The server is
 * `io.listen(port)`'s own: its listen backlog is part of what a storm meets (at Node's default of
 * 511 the accept queue overflowed twice as often, and in a loaded run some clients failed).
 */
async function storm(clients: number, transports: string): Promise<void> {
  const io = new Server().listen(0);
  const httpServer = io.httpServer as HttpServer;
  if (!httpServer.listening) await once(httpServer, "listening");
  const refusals: ConnectionError[] = [];
  io.engine.on("connection_error", (e) => refusals.push(e));
  const port = (httpServer.address() as AddressInfo).port;
  const children = shares(clients).map((count) =>
    fork(new URL("./storm-clients.ts", import.meta.url), [`http://127.0.0.1:${port}`, String(count), transports], {
      execArgv: ["--import", "tsx"],
    }),
  );
  try {
    const reports = await Promise.all(children.map(async (child) => (await once(child, "message"))[0] as StormReport));
    const connected = reports.reduce((sum, r) => sum + r.connected, 0);
    const failures = reports.flatMap((r) => r.failures);
    // counted, not listed: on failure there are thousands
    assert.equal(refusals.filter((e) => /Too many/.test(e.message)).length, 0, "handshakes refused with 429");
    assert.equal(failures.filter((f) => f.includes("429")).length, 0, "clients told 429");
    assert.equal(connected, clients, `${failures.length} failures, such as: ${failures.slice(0, 5).join("; ")}`);
    assert.equal(io.of("/").sockets.size, clients);
  } finally {
    await Promise.all(
      children.map((child) => {
        const exited = once(child, "exit");
        if (child.exitCode === null) child.send("close" satisfies StormCommand);
        return exited;
      }),
    );
    httpServer.closeAllConnections();
    await io.close();
  }
}

// The per-address defaults must let a reconnect storm or a load test from one address through:
// official clients opened at once from 127.0.0.1, with the server on default options. The clients
// run in child processes (a process may hold 20,000 open files here: both ends in one would not
// fit).
//
// With the client's default transports, 2,000 rather than 10,000. The Node polling client makes a
// new TCP connection per request (handshake, POST, each GET, the WebSocket probe), four to six per
// client, in bursts, and its CPU per client is about twice the server's. The bursts overflow the
// kernel's accept queue (4096) while the server sits mostly idle: 2,000 clients about 10,000
// times, 10,000 clients some 140,000 times. Dropped connections are retried after 1, 2, 4, ...
// seconds, and some late retries are reset (SYN cookies). 10,000 then take past two minutes, and
// hundreds fail (reset, or a heartbeat timeout while their namespace connect waits); 3,000 mostly
// took 15-25 s, but one run in six had 123 connections reset. The official socket.io server does
// the same under the same clients. The server side is what this test is about: 10,000 over
// WebSocket below.
test(`${POLLING_CLIENTS} clients with the default transports (polling, then the upgrade) all get in, with no 429`, {
  timeout: 600_000,
}, async () => {
  await storm(POLLING_CLIENTS, "polling,websocket");
});

test("10000 WebSocket-only clients connecting at once all get in, with no 429", { timeout: 300_000 }, async () => {
  await storm(10_000, "websocket");
});
