/**
 * A custom parser facing hostile input over a raw WebSocket: whatever its decoder throws or
 * emits, the connection closes with "parse error", the server stays up, and no malformed packet
 * reaches a handler. Tutti's limits still hold where they can: maxArguments and maxDepth on the
 * decoded packet, maxAttachments as messages per packet.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import * as msgpackParser from "socket.io-msgpack-parser";
import type { Parser, ServerOptions } from "../src/index.js";
import { handshakeUrl, RawWs, until } from "./helpers.js";
import { nestedArrays, nextPacket } from "./hostile-helpers.js";
import { JsonEncoder, jsonParser, TrustingDecoder, trustingParser } from "./parser-helpers.js";
import { type RunningIo, startIo } from "./sio-helpers.js";

interface Arena {
  s: RunningIo;
  /** Every event a handler got, as [name, ...args]. */
  handled: unknown[][];
  /** Server-side disconnects: reason and description, by socket id. */
  disconnects: Map<string, { reason: string; description: unknown }>;
}

async function arena(parser: Parser, opts: Partial<ServerOptions> = {}): Promise<Arena> {
  const s = await startIo({ parser, handshakeRate: false, ...opts });
  const handled: unknown[][] = [];
  const disconnects = new Map<string, { reason: string; description: unknown }>();
  s.io.on("connection", (socket) => {
    socket.onAny((...args: unknown[]) => {
      handled.push(args);
      const ack = args.at(-1);
      if (typeof ack === "function") ack(args.slice(1, -1));
    });
    socket.on("disconnect", (reason, description) => disconnects.set(socket.id, { reason, description }));
  });
  return { s, handled, disconnects };
}

/** A raw WebSocket connected to "/" with JSON-framed packets; returns it with the socket id. */
async function connectRaw(a: Arena): Promise<{ raw: RawWs; socketId: string }> {
  const raw = new RawWs(handshakeUrl(a.s.port, "websocket"));
  const open = await raw.next();
  assert.match(String(open), /^0\{/);
  raw.send('4{"type":0,"nsp":"/"}');
  const answer = JSON.parse(String(await nextPacket(raw)).slice(1)) as { type: number; data: { sid: string } };
  assert.equal(answer.type, 0, "CONNECT answered");
  return { raw, socketId: answer.data.sid };
}

/** The connection closes, the socket got "parse error" with `description`, and no handler ran. */
async function closedWithParseError(a: Arena, raw: RawWs, socketId: string, description: string): Promise<void> {
  await raw.waitClosed();
  await until(() => a.disconnects.has(socketId), "the socket to disconnect");
  assert.deepEqual(a.disconnects.get(socketId), { reason: "parse error", description });
  assert.deepEqual(a.handled, [], "no handler got anything");
}

/** A fresh raw client gets an ack round trip: the server is still up. */
async function healthy(a: Arena): Promise<void> {
  const { raw } = await connectRaw(a);
  raw.send('4{"type":2,"nsp":"/","id":1,"data":["echo","still here"]}');
  assert.deepEqual(JSON.parse(String(await nextPacket(raw)).slice(1)), {
    type: 3,
    nsp: "/",
    id: 1,
    data: [["still here"]],
  });
  raw.ws.close();
  a.handled.length = 0;
}

describe("a decoder that throws or emits garbage", () => {
  let a: Arena;
  before(async () => {
    a = await arena(trustingParser, { maxArguments: 5, maxDepth: 8 });
  });
  after(() => a.s.close());

  const cases: ReadonlyArray<{ name: string; message: string; description: string }> = [
    { name: "add() throws", message: "throw", description: "the decoder gave up" },
    { name: "add() throws on bad input (invalid JSON)", message: "{", description: "" },
    { name: "null", message: "null", description: "invalid packet" },
    { name: "a number", message: "5", description: "invalid packet" },
    { name: "an array", message: "[2]", description: "invalid packet" },
    { name: "an unknown type", message: '{"type":9,"nsp":"/","data":["ev"]}', description: "invalid packet type" },
    { name: "a type as a string", message: '{"type":"2","nsp":"/","data":["ev"]}', description: "invalid packet type" },
    {
      name: "a namespace that is no string",
      message: '{"type":2,"nsp":5,"data":["ev"]}',
      description: "invalid namespace",
    },
    { name: "an event without data", message: '{"type":2,"nsp":"/"}', description: "invalid payload" },
    {
      name: "an event whose data is no array",
      message: '{"type":2,"nsp":"/","data":"ev"}',
      description: "invalid payload",
    },
    { name: "an event with no name", message: '{"type":2,"nsp":"/","data":[]}', description: "invalid payload" },
    {
      name: "a reserved event name",
      message: '{"type":2,"nsp":"/","data":["disconnect"]}',
      description: "invalid payload",
    },
    { name: "a negative ack id", message: '{"type":2,"nsp":"/","id":-1,"data":["ev"]}', description: "invalid ack id" },
    {
      name: "a fractional ack id",
      message: '{"type":2,"nsp":"/","id":1.5,"data":["ev"]}',
      description: "invalid ack id",
    },
    {
      name: "an ack id as a string",
      message: '{"type":2,"nsp":"/","id":"1","data":["ev"]}',
      description: "invalid ack id",
    },
    { name: "an ACK without id", message: '{"type":3,"nsp":"/","data":[]}', description: "ack without id" },
    { name: "a DISCONNECT with data", message: '{"type":1,"nsp":"/","data":["x"]}', description: "invalid payload" },
    {
      name: "more arguments than maxArguments",
      message: '{"type":2,"nsp":"/","data":["ev",1,2,3,4,5,6]}',
      description: "too many arguments",
    },
    {
      name: "deeper than maxDepth",
      message: `{"type":2,"nsp":"/","data":["ev",${nestedArrays(9)}]}`,
      description: "payload nested too deep",
    },
    {
      name: "deeper than maxDepth, in objects",
      message: `{"type":2,"nsp":"/","data":["ev",${'{"a":'.repeat(9)}1${"}".repeat(9)}]}`,
      description: "payload nested too deep",
    },
  ];
  for (const { name, message, description } of cases) {
    test(name, async () => {
      const { raw, socketId } = await connectRaw(a);
      raw.send(`4${message}`);
      const expected = description === "" ? jsonParseError(message) : description;
      await closedWithParseError(a, raw, socketId, expected);
      await healthy(a);
    });
  }

  test("at the limits: maxArguments arguments and maxDepth levels are delivered", async () => {
    const { raw } = await connectRaw(a);
    raw.send('4{"type":2,"nsp":"/","id":3,"data":["ev",1,2,3,4,5]}');
    assert.deepEqual(JSON.parse(String(await nextPacket(raw)).slice(1)).data, [[1, 2, 3, 4, 5]]);
    raw.send(`4{"type":2,"nsp":"/","id":4,"data":["ev",${nestedArrays(8)}]}`);
    assert.equal(JSON.parse(String(await nextPacket(raw)).slice(1)).type, 3);
    raw.ws.close();
    a.handled.length = 0;
  });

  test("a decoder that holds messages without a packet: past maxAttachments + 1 messages", async () => {
    const b = await arena(trustingParser, { maxAttachments: 3 });
    try {
      // 3 binary messages the decoder keeps and a text one: 4 messages, as many as one packet may span
      const { raw } = await connectRaw(b);
      for (let i = 0; i < 3; i++) raw.send(Buffer.from([i]));
      raw.send('4{"type":2,"nsp":"/","id":1,"data":["ev"]}');
      assert.equal(JSON.parse(String(await nextPacket(raw)).slice(1)).type, 3, "answered");
      // 5 without a packet: refused
      const second = await connectRaw(b);
      for (let i = 0; i < 5; i++) second.raw.send(Buffer.from([i]));
      await second.raw.waitClosed();
      await until(() => b.disconnects.has(second.socketId), "the socket to disconnect");
      assert.deepEqual(b.disconnects.get(second.socketId), {
        reason: "parse error",
        description: "too many attachments",
      });
      b.handled.length = 0;
      await healthy(b);
    } finally {
      await b.s.close();
    }
  });
});

test("a Decoder whose constructor throws: each connection closes, the server stays up", async () => {
  let attempts = 0;
  class BrokenDecoder extends TrustingDecoder {
    constructor() {
      super();
      if (++attempts <= 2) throw new Error("no decoder today");
    }
  }
  const a = await arena({ Encoder: JsonEncoder, Decoder: BrokenDecoder });
  try {
    for (let i = 0; i < 2; i++) {
      const raw = new RawWs(handshakeUrl(a.s.port, "websocket"));
      await raw.waitClosed();
    }
    await healthy(a);
  } finally {
    await a.s.close();
  }
});

/** The message JSON.parse throws for `text`. */
function jsonParseError(text: string): string {
  try {
    JSON.parse(text);
    return "";
  } catch (err) {
    return (err as Error).message;
  }
}

describe("published parsers keep Tutti's limits", () => {
  test("socket.io-json-parser: maxArguments, maxDepth, and bad JSON", async () => {
    const a = await arena(jsonParser);
    try {
      const tooMany = JSON.stringify({ type: 2, nsp: "/", data: ["ev", ...new Array(1001).fill(0)] });
      const tooDeep = `{"type":2,"nsp":"/","data":["ev",${nestedArrays(513)}]}`;
      for (const [message, description] of [
        [tooMany, "too many arguments"],
        [tooDeep, "payload nested too deep"],
        ['{"type":2,"nsp":"/","data":["connect"]}', "invalid payload"],
      ] as const) {
        const { raw, socketId } = await connectRaw(a);
        raw.send(`4${message}`);
        await closedWithParseError(a, raw, socketId, description);
      }
      const { raw, socketId } = await connectRaw(a);
      raw.send("4{not json");
      await raw.waitClosed();
      await until(() => a.disconnects.has(socketId), "the socket to disconnect");
      assert.equal(a.disconnects.get(socketId)?.reason, "parse error");
      await healthy(a);
    } finally {
      await a.s.close();
    }
  });

  test("socket.io-msgpack-parser: bytes that are no msgpack", async () => {
    const a = await arena(msgpackParser);
    try {
      const raw = new RawWs(handshakeUrl(a.s.port, "websocket"));
      await raw.next();
      // 0xc1 is the one byte msgpack never uses
      raw.send(Buffer.from([0xc1]));
      await raw.waitClosed();
      const fresh = new RawWs(handshakeUrl(a.s.port, "websocket"));
      assert.match(String(await fresh.next()), /^0\{/, "the server still answers");
      fresh.ws.close();
    } finally {
      await a.s.close();
    }
  });
});
