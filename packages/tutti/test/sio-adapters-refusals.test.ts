// Adapters written for socket.io that cannot work on Tutti: io.adapter() and the adapter option
// refuse them with a TuttiError ADAPTER_NOT_SUPPORTED that names them and what to use instead,
// and a refused adapter leaves the server as it was.
import assert from "node:assert/strict";
import { test } from "node:test";
import { SessionAwareAdapter } from "socket.io-adapter";
import { type AdapterConstructor, Server, TuttiError } from "../src/index.js";
import { connected, startIo, waitFor } from "./sio-helpers.js";

/** socket.io-adapter 1.x, the base of socket.io 2's adapters (socket.io-redis 5 and older); it ships no types. */
const { default: AdapterV1 } = (await import("socket.io-adapter-v1" as string)) as { default: AdapterConstructor };

function refusal(pattern: RegExp): (err: unknown) => true {
  return (err) => {
    assert.ok(err instanceof TuttiError, String(err));
    assert.equal(err.code, "ADAPTER_NOT_SUPPORTED");
    assert.match(err.message, pattern);
    // what to use instead
    assert.match(err.message, /@socket\.io\/redis-adapter/);
    return true;
  };
}

test("an adapter for socket.io 2 (socket.io-adapter 1.x) is refused by the adapter option", () => {
  assert.throws(
    () => new Server({ adapter: AdapterV1 }),
    refusal(/Adapter \(namespace "\/"\) is written for socket\.io 2/),
  );
});

test("io.adapter() refuses an adapter for socket.io 2 and the server keeps its adapter and works on", async () => {
  const r = await startIo();
  try {
    const before = r.io.of("/").adapter;
    const ctor = r.io.adapter();
    assert.throws(() => r.io.adapter(AdapterV1), refusal(/socket\.io 2/));
    assert.equal(r.io.of("/").adapter, before);
    assert.equal(r.io.adapter(), ctor);
    const client = r.client("/");
    await connected(client);
    const news = waitFor<[string]>(client, "news");
    r.io.emit("news", "still here");
    assert.deepEqual(await news, ["still here"]);
  } finally {
    await r.close();
  }
});

test("socket.io-adapter's SessionAwareAdapter (connection state recovery) is refused", () => {
  const io = new Server();
  assert.throws(
    () => io.adapter(SessionAwareAdapter as unknown as AdapterConstructor),
    refusal(/needs connection state recovery/),
  );
});

test("an object without the adapter's methods is refused", () => {
  // biome-ignore lint/complexity/useArrowFunction: called with new, as socket.io calls a factory
  const notAnAdapter = function () {
    return { rooms: new Map(), sids: new Map() };
  };
  assert.throws(
    () => new Server({ adapter: notAnAdapter as unknown as AdapterConstructor }),
    refusal(/has no addAll\(\)/),
  );
});
