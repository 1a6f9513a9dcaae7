/**
 * The `parser` option with the official client using the same parser: socket.io-msgpack-parser,
 * socket.io-json-parser and a hand-written one, over WebSocket and long-polling.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import * as msgpackParser from "socket.io-msgpack-parser";
import type { Parser, Socket } from "../src/index.js";
import { framedParser, jsonParser } from "./parser-helpers.js";
import { connected, startIo, waitFor } from "./sio-helpers.js";

const PARSERS: ReadonlyArray<{ name: string; parser: Parser; binary: boolean }> = [
  { name: "socket.io-msgpack-parser", parser: msgpackParser, binary: true },
  { name: "socket.io-json-parser", parser: jsonParser, binary: false },
  { name: "a hand-written parser", parser: framedParser, binary: true },
];

function bytes(value: unknown): number[] {
  assert.ok(value instanceof ArrayBuffer || ArrayBuffer.isView(value), `binary, got ${typeof value}`);
  const view =
    value instanceof ArrayBuffer
      ? new Uint8Array(value)
      : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  return [...view];
}

for (const { name, parser, binary } of PARSERS) {
  for (const mode of ["websocket", "polling"] as const) {
    test(`${name} over ${mode}: connect, events and acks both ways, rooms, namespaces, CONNECT_ERROR`, async (t) => {
      const s = await startIo({ parser }, mode);
      t.after(() => s.close());
      const payload = binary ? { text: "héllo", bin: Buffer.from([1, 2, 3]) } : { text: "héllo" };
      s.io.on("connection", (socket: Socket) => {
        socket.emit("hello", payload, 7);
        socket.on("echo", (...args: unknown[]) => {
          const ack = args.pop() as (received: unknown[]) => void;
          ack(args);
        });
        socket.on("join", (room: string, ack: () => void) => {
          socket.join(room);
          ack();
        });
        socket.on("ask", async (ack: (answer: unknown) => void) => {
          ack(await socket.emitWithAck("question", 41));
        });
      });
      const admin = s.io.of("/admin");
      admin.use((socket, next) => {
        if (socket.handshake.auth.ok === true) next();
        else next(Object.assign(new Error("not allowed"), { data: { code: 7 } }));
      });
      admin.on("connection", (socket) => socket.emit("welcome", socket.nsp.name));

      const a = s.client("/", { parser });
      const b = s.client("/", { parser });
      const c = s.client("/", { parser });
      const hello = waitFor<[typeof payload, number]>(a, "hello");
      await Promise.all([connected(a), connected(b), connected(c)]);

      // server to client, as the connection begins
      const [got, seven] = await hello;
      assert.equal(got.text, "héllo");
      assert.equal(seven, 7);
      if (binary) assert.deepEqual(bytes((got as { bin: unknown }).bin), [1, 2, 3]);

      // client to server with an ack
      const sent = binary ? ["x", { n: 1 }, Buffer.from([9, 8])] : ["x", { n: 1 }];
      const echoed: unknown[] = await a.timeout(5000).emitWithAck("echo", ...sent);
      assert.deepEqual(echoed.slice(0, 2), ["x", { n: 1 }]);
      if (binary) assert.deepEqual(bytes(echoed[2]), [9, 8]);

      // server to client with an ack
      a.on("question", (n: number, ack: (answer: number) => void) => ack(n + 1));
      assert.equal(await a.timeout(5000).emitWithAck("ask"), 42);

      // a broadcast to a room reaches its members only
      await b.timeout(5000).emitWithAck("join", "room");
      const cGot: string[] = [];
      c.on("news", () => cGot.push("news"));
      const news = waitFor<[string, unknown?]>(b, "news");
      const all = waitFor(c, "all");
      if (binary) s.io.to("room").emit("news", "room only", Buffer.from([4]));
      else s.io.to("room").emit("news", "room only");
      s.io.emit("all");
      const [text, bin] = await news;
      assert.equal(text, "room only");
      if (binary) assert.deepEqual(bytes(bin), [4]);
      await all;
      assert.deepEqual(cGot, [], "a client outside the room got nothing before the next broadcast");

      // a second namespace over the same connection
      const adminSocket = a.io.socket("/admin", { auth: { ok: true } });
      const welcome = waitFor<[string]>(adminSocket, "welcome");
      adminSocket.connect();
      assert.deepEqual(await welcome, ["/admin"]);
      assert.equal(s.io.engine.clientsCount, 3, "both namespaces share one connection");

      // CONNECT_ERROR from a middleware, with its data
      const refused = s.client("/admin", { parser, auth: {} });
      const [err] = await waitFor<[Error & { data?: unknown }]>(refused, "connect_error");
      assert.equal(err.message, "not allowed");
      assert.deepEqual(err.data, { code: 7 });
    });
  }
}
