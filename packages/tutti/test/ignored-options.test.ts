/**
 * Options socket.io or engine.io take and Tutti does not act on: one warning each at startup,
 * per server, never silence.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { test } from "node:test";
import { Server, TuttiError } from "../src/index.js";

/** The TuttiWarnings emitted while `run` runs (warnings are emitted on the next tick). */
async function warningsOf(run: () => void): Promise<Array<{ code: string | undefined; message: string }>> {
  const seen: Array<{ code: string | undefined; message: string }> = [];
  const listener = (warning: Error & { code?: string }): void => {
    if (warning.name === "TuttiWarning") seen.push({ code: warning.code, message: warning.message });
  };
  process.on("warning", listener);
  try {
    run();
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off("warning", listener);
  }
  return seen;
}

test("each option Tutti does not act on gets one TUTTI_IGNORED_OPTION warning per server", async () => {
  const servers: Server[] = [];
  const warnings = await warningsOf(() => {
    const io = new Server({
      connectionStateRecovery: { maxDisconnectionDuration: 120_000 },
      wsEngine: class {},
      initialPacket: "hello",
      allowEIO3: true,
      cors: ((_req: unknown, callback: (err: null, options: object) => void) => callback(null, {})) as never,
      httpCompression: { threshold: 2048, level: 9 } as never,
    });
    servers.push(io);
    // the same options again when attaching: no second warning from this server
    io.attach(createServer(), { allowEIO3: true });
  });
  for (const io of servers) await io.close();
  assert.deepEqual(
    warnings.map((w) => w.code),
    new Array(6).fill("TUTTI_IGNORED_OPTION"),
  );
  const named = warnings.map((w) => /"(\w+)"/.exec(w.message)?.[1]);
  assert.deepEqual(named, [
    "connectionStateRecovery",
    "wsEngine",
    "initialPacket",
    "allowEIO3",
    "cors",
    "httpCompression",
  ]);
  assert.match(warnings[0]?.message ?? "", /not acted on: sessions are not recovered/);
});

test("options Tutti acts on, and values that ask for what Tutti does, give no warning", async () => {
  const warnings = await warningsOf(() => {
    new Server({
      allowEIO3: false,
      connectionStateRecovery: false,
      parser: undefined,
      pingInterval: 1000,
      cors: { origin: (_origin, callback) => callback(null, true) },
      httpCompression: { threshold: 2048 },
    });
    new Server();
  });
  assert.deepEqual(warnings, []);
});

test("a parser without Encoder and Decoder constructors is refused at startup", () => {
  for (const parser of [{}, { Encoder: class {} }, null, "msgpack"]) {
    assert.throws(
      () => new Server({ parser: parser as never }),
      (err: unknown) => err instanceof TuttiError && err.code === "INVALID_OPTION",
    );
  }
});
