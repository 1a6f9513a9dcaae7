import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import type { Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { EngineServer, Server } from "../src/index.js";

/**
 * The accept-queue length of the socket listening on `port`, as Linux's `ss` shows it (the
 * Send-Q column of a listening socket); undefined where `ss` or /proc is not there.
 */
function backlogOf(port: number): number | undefined {
  try {
    const line = execFileSync("ss", ["-Hltn", `sport = :${port}`], { encoding: "utf8" }).trim();
    return Number(line.split(/\s+/)[2]);
  } catch {
    return undefined;
  }
}

function somaxconn(): number | undefined {
  try {
    return Number(readFileSync("/proc/sys/net/core/somaxconn", "utf8"));
  } catch {
    return undefined;
  }
}

const skip = process.platform !== "linux" || backlogOf(1) === undefined || somaxconn() === undefined;

// Node's default of 511 overflowed in a reconnect storm of 10,000 clients; the kernel caps
// whatever is asked at net.core.somaxconn.
const expected = Math.min(4096, somaxconn() ?? 0);

test("io.listen(port) listens with a backlog of 4096 (capped by the kernel), not Node's 511", { skip }, async () => {
  const io = new Server().listen(0);
  const httpServer = io.httpServer as HttpServer;
  try {
    if (!httpServer.listening) await once(httpServer, "listening");
    assert.equal(backlogOf((httpServer.address() as AddressInfo).port), expected);
  } finally {
    await io.close();
  }
});

test("engine.listen(port) listens with a backlog of 4096 (capped by the kernel)", { skip }, async () => {
  const engine = new EngineServer();
  await new Promise<void>((resolve) => engine.listen(0, "127.0.0.1", resolve));
  try {
    assert.equal(backlogOf(((engine.httpServer as HttpServer).address() as AddressInfo).port), expected);
  } finally {
    await new Promise((resolve) => engine.close(resolve));
  }
});
