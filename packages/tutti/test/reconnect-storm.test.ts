import assert from "node:assert/strict";
import { fork } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { type ConnectionError, Server } from "../src/index.js";
import type { StormCommand, StormReport } from "./storm-clients.js";

const CLIENTS = 10_000;

// The per-address defaults must let a reconnect storm or a load test from one address through:
// 10,000 official clients opened at once from 127.0.0.1, with the server on default options.
// The clients run in a child process (a process may hold 20,000 open files here: both ends in
// one would not fit). Over WebSocket: the handshake is counted the same on either transport,
// and the Node polling client takes minutes for 10,000 on a 2-core machine.
test(`${CLIENTS} clients connecting at once from one address all get in, with no 429`, {
  timeout: 300_000,
}, async () => {
  const httpServer = createServer();
  const io = new Server(httpServer);
  const refusals: ConnectionError[] = [];
  io.engine.on("connection_error", (e) => refusals.push(e));
  // the kernel's accept queue, not Tutti's: Node's default of 511 drops SYNs in a storm
  await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", 4096, resolve));
  const port = (httpServer.address() as AddressInfo).port;
  const child = fork(
    new URL("./storm-clients.ts", import.meta.url),
    [`http://127.0.0.1:${port}`, String(CLIENTS), "websocket"],
    { execArgv: ["--import", "tsx"] },
  );
  try {
    const [report] = (await once(child, "message")) as [StormReport];
    // counted, not listed: on failure there are thousands
    assert.equal(refusals.filter((e) => /Too many/.test(e.message)).length, 0, "handshakes refused with 429");
    assert.equal(report.failures.filter((f) => f.includes("429")).length, 0, "clients told 429");
    assert.equal(report.connected, CLIENTS, `failures: ${report.failures.slice(0, 5).join("; ")}`);
    assert.equal(io.engine.clientsCount, CLIENTS);
  } finally {
    const exited = once(child, "exit");
    child.send("close" satisfies StormCommand);
    await exited;
    await io.close();
    httpServer.closeAllConnections();
  }
});
