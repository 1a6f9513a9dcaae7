/**
 * The Socket.IO v5 packet codec: `<type>[<attachments>-][<nsp>,][<ack id>][JSON]`, binary
 * attachments, the decoder's refusals, and agreement with socket.io-parser (the reference).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { Decoder as OracleDecoder, Encoder as OracleEncoder } from "socket.io-parser";
import { protocol } from "../src/index.js";

const { decodeSocketPacketText, encodeSocketPacket, hasBinary, SocketPacketDecoder, SocketPacketType } = protocol;
type SocketPacket = protocol.SocketPacket;
type DecodeResult = protocol.DecodeResult;

const { CONNECT, DISCONNECT, EVENT, ACK, CONNECT_ERROR, BINARY_EVENT, BINARY_ACK } = SocketPacketType;

const ph = (num: number) => ({ _placeholder: true, num });
/** An attachment limit no generated packet reaches. */
const LOTS = 10_000;

/** Feeds the text part then each attachment; every step but the last must be "still waiting". */
function decodeAll(
  text: string,
  attachments: readonly Buffer[] = [],
  decoder = new SocketPacketDecoder(),
): DecodeResult | undefined {
  const first = decoder.add(text);
  if (attachments.length === 0) return first;
  assert.equal(first, undefined, "a binary header waits for its attachments");
  let last: DecodeResult | undefined;
  attachments.forEach((buf, i) => {
    last = decoder.add(buf);
    if (i < attachments.length - 1) assert.equal(last, undefined, `attachment ${i} is not the last`);
  });
  return last;
}

function decodeOk(
  text: string,
  attachments: readonly Buffer[] = [],
  decoder = new SocketPacketDecoder(),
): SocketPacket {
  const out = decodeAll(text, attachments, decoder);
  assert.ok(out, `${JSON.stringify(text)} gives a result`);
  assert.equal(out.error, undefined, `${JSON.stringify(text)} decodes, got error ${out.error}`);
  assert.ok(out.packet);
  return out.packet;
}

/** Feeds messages until one gives a result, which must be `{ error }`; never throws. */
function decodeError(messages: ReadonlyArray<string | Buffer>, maxAttachments?: number): string {
  const decoder = new SocketPacketDecoder(maxAttachments);
  for (const message of messages) {
    const out = decoder.add(message);
    if (out === undefined) continue;
    assert.equal(out.packet, undefined, `${describeMessages(messages)} must be refused`);
    assert.equal(typeof out.error, "string");
    return out.error as string;
  }
  assert.fail(`${describeMessages(messages)} gave no result at all`);
}

function describeMessages(messages: ReadonlyArray<string | Buffer>): string {
  return messages.map((m) => (typeof m === "string" ? JSON.stringify(m) : `<Buffer ${m.length}>`)).join(" + ");
}

function enc(packet: SocketPacket): { text: string; attachments: readonly Buffer[] } {
  return encodeSocketPacket(packet);
}

/** What socket.io-parser's Encoder sends for the same packet (it mutates its argument: pass a copy). */
function oracleEncode(packet: { type: number; nsp: string; id?: number; data?: unknown }): Array<string | Buffer> {
  return new OracleEncoder().encode({ ...packet } as never) as Array<string | Buffer>;
}

/** What socket.io-parser's Decoder makes of messages; throws where socket.io-parser throws. */
function oracleDecode(
  messages: ReadonlyArray<string | Buffer>,
  maxAttachments = 10,
): Record<string, unknown> | undefined {
  const decoder = new OracleDecoder({ maxAttachments });
  let decoded: Record<string, unknown> | undefined;
  decoder.on("decoded", (p) => {
    decoded = { ...p };
  });
  for (const m of messages) decoder.add(m);
  return decoded;
}

describe("Socket.IO codec: encoding", () => {
  test("every non-binary packet type, with its digit", () => {
    assert.equal(enc({ type: CONNECT, nsp: "/" }).text, "0");
    assert.equal(enc({ type: CONNECT, nsp: "/", data: { sid: "abc" } }).text, '0{"sid":"abc"}');
    assert.equal(enc({ type: DISCONNECT, nsp: "/" }).text, "1");
    assert.equal(enc({ type: EVENT, nsp: "/", data: ["hello", 1] }).text, '2["hello",1]');
    assert.equal(enc({ type: ACK, nsp: "/", id: 7, data: ["ok"] }).text, '37["ok"]');
    assert.equal(enc({ type: ACK, nsp: "/", id: 7, data: [] }).text, "37[]");
    assert.equal(
      enc({ type: CONNECT_ERROR, nsp: "/", data: { message: "Not authorized" } }).text,
      '4{"message":"Not authorized"}',
    );
    assert.equal(
      enc({ type: CONNECT_ERROR, nsp: "/", data: { message: "no", data: { code: 3 } } }).text,
      '4{"message":"no","data":{"code":3}}',
    );
    for (const p of [
      { type: CONNECT, nsp: "/" },
      { type: DISCONNECT, nsp: "/" },
      { type: EVENT, nsp: "/", data: ["x"] },
    ] as const) {
      assert.deepEqual(enc(p).attachments, []);
    }
  });

  test('"/" is omitted, any other namespace is written with a comma', () => {
    assert.equal(enc({ type: CONNECT, nsp: "/admin" }).text, "0/admin,");
    assert.equal(enc({ type: CONNECT, nsp: "/admin", data: { token: "x" } }).text, '0/admin,{"token":"x"}');
    assert.equal(enc({ type: DISCONNECT, nsp: "/admin" }).text, "1/admin,");
    assert.equal(enc({ type: EVENT, nsp: "/admin", data: ["a"] }).text, '2/admin,["a"]');
    assert.equal(enc({ type: EVENT, nsp: "/admin", id: 12, data: ["a"] }).text, '2/admin,12["a"]');
    assert.equal(enc({ type: ACK, nsp: "/admin", id: 0, data: [null] }).text, "3/admin,0[null]");
    assert.equal(
      enc({ type: CONNECT_ERROR, nsp: "/random", data: { message: "Invalid namespace" } }).text,
      '4/random,{"message":"Invalid namespace"}',
    );
  });

  test("ack ids, 0 included, come right before the JSON", () => {
    assert.equal(enc({ type: EVENT, nsp: "/", id: 0, data: ["a"] }).text, '20["a"]');
    assert.equal(enc({ type: EVENT, nsp: "/", id: 2147483647, data: ["a"] }).text, '22147483647["a"]');
  });

  test("a Buffer turns an EVENT into a BINARY_EVENT with a placeholder", () => {
    const buf = Buffer.from([1, 2, 3]);
    const out = enc({ type: EVENT, nsp: "/", data: ["up", buf] });
    assert.equal(out.text, '51-["up",{"_placeholder":true,"num":0}]');
    assert.equal(out.attachments.length, 1);
    assert.deepEqual(out.attachments[0], buf);
  });

  test("an ACK with binary becomes a BINARY_ACK, namespace and id in place", () => {
    const out = enc({ type: ACK, nsp: "/admin", id: 15, data: [Buffer.from([9])] });
    assert.equal(out.text, '61-/admin,15[{"_placeholder":true,"num":0}]');
    assert.deepEqual(out.attachments, [Buffer.from([9])]);
    const ev = enc({ type: EVENT, nsp: "/admin", id: 3, data: ["e", Buffer.from([1])] });
    assert.equal(ev.text, '51-/admin,3["e",{"_placeholder":true,"num":0}]');
  });

  test("ArrayBuffer, Uint8Array, Int16Array and DataView are attachments with their exact bytes", () => {
    const ab = new Uint8Array([1, 2, 3, 4]).buffer;
    const u8 = new Uint8Array([5, 6, 7]);
    const i16 = new Int16Array([1, -1, 258]);
    const backing = new Uint8Array([0, 10, 20, 30, 40, 50]);
    const dv = new DataView(backing.buffer, 2, 3); // a view into the middle of a bigger buffer
    const sub = new Uint8Array(backing.buffer, 1, 2);
    const out = enc({ type: EVENT, nsp: "/", data: ["bin", ab, u8, i16, dv, sub] });
    assert.equal(
      out.text,
      `55-["bin",${[0, 1, 2, 3, 4].map((n) => JSON.stringify(ph(n))).join(",")}]`,
      "five placeholders, numbered in order",
    );
    assert.deepEqual(
      out.attachments.map((b) => [...b]),
      [[1, 2, 3, 4], [5, 6, 7], [...new Uint8Array(i16.buffer)], [20, 30, 40], [10, 20]],
    );
    for (const a of out.attachments) assert.ok(Buffer.isBuffer(a), "attachments go out as Buffers");
  });

  test("binary nested in objects and arrays, several attachments, in JSON order", () => {
    const a = Buffer.from("a");
    const b = Buffer.from("b");
    const c = Buffer.from("c");
    const out = enc({
      type: EVENT,
      nsp: "/",
      data: ["files", { list: [a, { inner: b }], meta: { n: 2 } }, [[c]], "tail"],
    });
    assert.equal(
      out.text,
      '53-["files",{"list":[{"_placeholder":true,"num":0},{"inner":{"_placeholder":true,"num":1}}],"meta":{"n":2}},[[{"_placeholder":true,"num":2}]],"tail"]',
    );
    assert.deepEqual(out.attachments, [a, b, c]);
  });

  test("the same buffer twice is sent twice", () => {
    const buf = Buffer.from([42]);
    const out = enc({ type: EVENT, nsp: "/", data: ["twice", buf, { again: buf }] });
    assert.equal(out.attachments.length, 2);
    assert.ok(out.text.startsWith("52-"));
  });

  test("the caller's data is not mutated", () => {
    const buf = Buffer.from([1, 2]);
    const inner = { file: buf, name: "x" };
    const arr = [buf, 1];
    const data = ["upload", inner, arr];
    const frozen = ["frozen", Object.freeze({ b: Buffer.from([3]) })];
    enc({ type: EVENT, nsp: "/", data });
    enc({ type: EVENT, nsp: "/", data: frozen }); // would throw if written to
    assert.equal(data.length, 3);
    assert.equal(data[1], inner);
    assert.equal(inner.file, buf, "the Buffer is still in the caller's object");
    assert.deepEqual(Object.keys(inner), ["file", "name"]);
    assert.equal(arr[0], buf);
    assert.deepEqual(buf, Buffer.from([1, 2]));
  });

  test("objects with toJSON (Date) encode as JSON.stringify does, binary or not", () => {
    const d = new Date(0);
    assert.equal(enc({ type: EVENT, nsp: "/", data: ["d", d] }).text, '2["d","1970-01-01T00:00:00.000Z"]');
    const bin = enc({ type: EVENT, nsp: "/", data: ["d", { at: d }, Buffer.from([1])] });
    assert.equal(bin.text, '51-["d",{"at":"1970-01-01T00:00:00.000Z"},{"_placeholder":true,"num":0}]');
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
      toJSON() {
        return [this.x, this.y];
      }
    }
    const p = new Point(1, 2);
    assert.equal(enc({ type: EVENT, nsp: "/", data: ["p", p] }).text, JSON.stringify(["p", p]).replace(/^/, "2"));
    assert.equal(
      enc({ type: EVENT, nsp: "/", data: ["p", p, Buffer.from([0])] }).text,
      '51-["p",[1,2],{"_placeholder":true,"num":0}]',
    );
    // undefined in arrays becomes null and in objects disappears, as JSON does
    assert.equal(
      enc({ type: EVENT, nsp: "/", data: ["u", undefined, { a: undefined, b: 1 }, Buffer.from([1])] }).text,
      '51-["u",null,{"b":1},{"_placeholder":true,"num":0}]',
    );
  });

  test('an own "__proto__" key of binary data is kept as a plain key', () => {
    const obj = JSON.parse('{"__proto__":{"x":1},"y":2}') as Record<string, unknown>;
    const out = enc({ type: EVENT, nsp: "/", data: ["p", obj, Buffer.from([1])] });
    assert.equal(out.text, '51-["p",{"__proto__":{"x":1},"y":2},{"_placeholder":true,"num":0}]');
  });

  test("hasBinary sees binary at any depth and through toJSON", () => {
    assert.equal(hasBinary(["a", 1, { b: [null, { c: "x" }] }]), false);
    assert.equal(hasBinary(["a", { b: [null, { c: new Uint16Array(1) }] }]), true);
    assert.equal(hasBinary({ toJSON: () => ({ inner: Buffer.alloc(1) }) }), true);
    assert.equal(hasBinary(new Date()), false);
  });

  test("agrees with socket.io-parser's Encoder on these packets", () => {
    const packets: Array<{ type: number; nsp: string; id?: number; data?: unknown }> = [
      { type: CONNECT, nsp: "/" },
      { type: CONNECT, nsp: "/admin", data: { token: 1 } },
      { type: DISCONNECT, nsp: "/admin" },
      { type: EVENT, nsp: "/", id: 3, data: ["a", { b: [1, "2"] }] },
      { type: ACK, nsp: "/x", id: 4, data: [] },
      { type: CONNECT_ERROR, nsp: "/", data: { message: "m" } },
      { type: EVENT, nsp: "/a", id: 1, data: ["bin", Buffer.from([1]), { x: [Buffer.from([2, 3])] }] },
      { type: ACK, nsp: "/", id: 9, data: [Buffer.from("z")] },
    ];
    for (const p of packets) {
      const ours = enc(p as SocketPacket);
      assert.deepEqual([ours.text, ...ours.attachments], oracleEncode(p), JSON.stringify(p));
    }
  });
});

describe("Socket.IO codec: decoding", () => {
  test("every valid text form", () => {
    assert.deepEqual(decodeOk("0"), { type: CONNECT, nsp: "/", data: undefined });
    assert.deepEqual(decodeOk('0{"token":"abc"}'), { type: CONNECT, nsp: "/", data: { token: "abc" } });
    assert.deepEqual(decodeOk("0/admin,"), { type: CONNECT, nsp: "/admin", data: undefined });
    assert.deepEqual(decodeOk("0/admin"), { type: CONNECT, nsp: "/admin", data: undefined });
    assert.deepEqual(decodeOk('0/admin,{"a":1}'), { type: CONNECT, nsp: "/admin", data: { a: 1 } });
    assert.deepEqual(decodeOk("1"), { type: DISCONNECT, nsp: "/", data: undefined });
    assert.deepEqual(decodeOk("1/admin,"), { type: DISCONNECT, nsp: "/admin", data: undefined });
    assert.deepEqual(decodeOk('2["hello",1,{"a":[true,null]}]'), {
      type: EVENT,
      nsp: "/",
      data: ["hello", 1, { a: [true, null] }],
    });
    assert.deepEqual(decodeOk("2[42]"), { type: EVENT, nsp: "/", data: [42] }, "a number event name");
    assert.deepEqual(decodeOk('2/admin,["a"]'), { type: EVENT, nsp: "/admin", data: ["a"] });
    assert.deepEqual(decodeOk('212["a"]'), { type: EVENT, nsp: "/", id: 12, data: ["a"] });
    assert.deepEqual(decodeOk('2/admin,0["a"]'), { type: EVENT, nsp: "/admin", id: 0, data: ["a"] });
    assert.deepEqual(decodeOk('31["ok",2]'), { type: ACK, nsp: "/", id: 1, data: ["ok", 2] });
    assert.deepEqual(decodeOk("3/admin,99[]"), { type: ACK, nsp: "/admin", id: 99, data: [] });
    assert.deepEqual(decodeOk("37"), { type: ACK, nsp: "/", id: 7, data: [] }, "an ACK without data acks with no args");
    assert.deepEqual(decodeOk('4{"message":"m"}'), { type: CONNECT_ERROR, nsp: "/", data: { message: "m" } });
    assert.deepEqual(decodeOk('4/x,"plain"'), { type: CONNECT_ERROR, nsp: "/x", data: "plain" });
    const maxId = "9".repeat(15);
    assert.equal(decodeOk(`2${maxId}["a"]`).id, Number(maxId), "15 digits are accepted");
  });

  test("a BINARY_EVENT is reassembled from its header and N Buffers", () => {
    const a = Buffer.from([1, 2]);
    const b = Buffer.from([3]);
    const p = decodeOk('52-/admin,7["up",{"_placeholder":true,"num":1},{"x":[{"_placeholder":true,"num":0}]}]', [a, b]);
    assert.equal(p.type, EVENT, "the decoder hands out EVENT, not BINARY_EVENT");
    assert.equal(p.nsp, "/admin");
    assert.equal(p.id, 7);
    assert.deepEqual(p.data, ["up", b, { x: [a] }]);
    const data = p.data as [string, Buffer, { x: Buffer[] }];
    assert.equal(data[1], b, "the very Buffer received is handed out");
  });

  test("a BINARY_ACK is reassembled into an ACK", () => {
    const buf = Buffer.from("ack");
    const p = decodeOk('61-3[{"_placeholder":true,"num":0},"s"]', [buf]);
    assert.equal(p.type, ACK);
    assert.equal(p.nsp, "/");
    assert.equal(p.id, 3);
    assert.deepEqual(p.data, [buf, "s"]);
  });

  test("one decoder handles packet after packet, binary and not", () => {
    const decoder = new SocketPacketDecoder();
    assert.deepEqual(decoder.add('2["a"]'), { packet: { type: EVENT, nsp: "/", data: ["a"] } });
    assert.equal(decoder.add('52-["b",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]'), undefined);
    assert.equal(decoder.add(Buffer.from([1])), undefined);
    const second = decoder.add(Buffer.from([2]));
    assert.deepEqual(second?.packet?.data, ["b", Buffer.from([1]), Buffer.from([2])]);
    assert.deepEqual(decoder.add('31["c"]'), { packet: { type: ACK, nsp: "/", id: 1, data: ["c"] } });
    decoder.add('51-["d",{"_placeholder":true,"num":0}]');
    decoder.reset();
    assert.deepEqual(decoder.add('2["e"]'), { packet: { type: EVENT, nsp: "/", data: ["e"] } }, "reset drops it");
  });

  test("decodeSocketPacketText leaves placeholders for the decoder to fill", () => {
    const out = decodeSocketPacketText('51-["a",{"_placeholder":true,"num":0}]');
    assert.ok("header" in out);
    assert.equal(out.header.type, BINARY_EVENT);
    assert.deepEqual(out.header.data, ["a", ph(0)]);
    const ack = decodeSocketPacketText('61-/n,2[{"_placeholder":true,"num":0}]');
    assert.ok("header" in ack);
    assert.equal(ack.header.type, BINARY_ACK);
    assert.equal(ack.header.nsp, "/n");
  });

  test("packets socket.io-parser encodes decode to the same packet", () => {
    const cases: Array<{ type: number; nsp: string; id?: number; data?: unknown }> = [
      { type: CONNECT, nsp: "/" },
      { type: CONNECT, nsp: "/admin", data: { token: "t" } },
      { type: DISCONNECT, nsp: "/admin" },
      { type: EVENT, nsp: "/", data: ["a", 1, null, { b: "c" }] },
      { type: EVENT, nsp: "/chat", id: 5, data: ["a"] },
      { type: ACK, nsp: "/chat", id: 5, data: ["r", { s: 1 }] },
      { type: CONNECT_ERROR, nsp: "/", data: { message: "x", data: { y: 1 } } },
      { type: EVENT, nsp: "/b", id: 2, data: ["bin", Buffer.from([1]), { deep: [Buffer.from([2, 3])] }] },
      { type: ACK, nsp: "/", id: 8, data: [Buffer.from([4]), "x"] },
    ];
    for (const c of cases) {
      const [text, ...attachments] = oracleEncode(c);
      const p = decodeOk(text as string, attachments as Buffer[]);
      assert.equal(p.type, c.type);
      assert.equal(p.nsp, c.nsp);
      assert.equal(p.id, c.id);
      assert.deepEqual(p.data, c.data);
    }
  });

  test("our encoding decodes identically with socket.io-parser's Decoder", () => {
    const p: SocketPacket = {
      type: EVENT,
      nsp: "/room",
      id: 4,
      data: ["x", { a: Buffer.from([1]), b: [Buffer.from([2])] }, "s"],
    };
    const { text, attachments } = enc(p);
    const decoded = oracleDecode([text, ...attachments]);
    assert.deepEqual(decoded, { type: EVENT, nsp: "/room", id: 4, data: p.data });
  });
});

describe("Socket.IO codec: refusals (an error, never a throw)", () => {
  const refused: Array<[string, ReadonlyArray<string | Buffer>]> = [
    ["empty string", [""]],
    ["unknown type 7", ['7["a"]']],
    ["unknown type 9", ["9"]],
    ["unknown type letter", ["abc"]],
    ["type below 0", ['/["a"]']],
    ["invalid JSON", ['2["a"']],
    ["invalid JSON after id", ["21{"]],
    ["trailing garbage", ['2["a"]x']],
    ["EVENT object payload", ["2{}"]],
    ["EVENT string payload", ['2"hello"']],
    ["EVENT number payload", ["2123a"]],
    ["EVENT garbage", ["2abc"]],
    ["EVENT empty array", ["2[]"]],
    ["EVENT without payload", ["2"]],
    ["EVENT with id, without payload", ["21"]],
    ["EVENT namespace only", ["2/admin,"]],
    ["EVENT null name", ["2[null]"]],
    ["EVENT object name", ['2[{"a":1}]']],
    ["EVENT array name", ['2[["a"]]']],
    ["EVENT boolean name", ["2[true]"]],
    ["CONNECT array payload", ["0[]"]],
    ["CONNECT string payload", ['0"token"']],
    ["CONNECT null payload", ["0null"]],
    ["CONNECT number payload", ["0/admin,5x"]],
    ["DISCONNECT with payload", ["1{}"]],
    ["DISCONNECT with array payload", ["1[]"]],
    ["DISCONNECT with namespace and payload", ['1/admin,{"a":1}']],
    ["ACK without id", ['3["a"]']],
    ["ACK without id nor data", ["3"]],
    ["ACK with an object", ["31{}"]],
    ["CONNECT_ERROR with an array", ["4[]"]],
    ["CONNECT_ERROR with a number", ["4/x,[1]"]],
    ["BINARY_EVENT without attachment count", ['5["a",{"_placeholder":true,"num":0}]']],
    ["BINARY_EVENT attachments 0", ['50-["a"]']],
    ["BINARY_EVENT attachments non-numeric", ['5a-["a",{"_placeholder":true,"num":0}]']],
    ["BINARY_EVENT attachments signed", ['5+1-["a",{"_placeholder":true,"num":0}]']],
    ["BINARY_EVENT attachments empty", ['5-["a",{"_placeholder":true,"num":0}]']],
    ["BINARY_EVENT attachments 11 (default max 10)", ['511-["a",{"_placeholder":true,"num":0}]']],
    ["BINARY_EVENT attachments huge", ['59999999999-["a",{"_placeholder":true,"num":0}]']],
    ["BINARY_EVENT without payload", ["51-"]],
    ["BINARY_EVENT reserved name", ['51-["connect",{"_placeholder":true,"num":0}]']],
    ["BINARY_EVENT placeholder as name", ['51-[{"_placeholder":true,"num":0}]']],
    ["BINARY_ACK without id", ['61-[{"_placeholder":true,"num":0}]']],
    ["ack id with 16 digits", [`2${"1".repeat(16)}["a"]`]],
    ["ack id with 400 digits", [`3${"9".repeat(400)}[]`]],
    ["placeholder num out of range", ['51-["a",{"_placeholder":true,"num":1}]', Buffer.from([1])]],
    ["placeholder num negative", ['51-["a",{"_placeholder":true,"num":-1}]', Buffer.from([1])]],
    ["placeholder num not an integer", ['51-["a",{"_placeholder":true,"num":0.5}]', Buffer.from([1])]],
    ["placeholder num a string", ['51-["a",{"_placeholder":true,"num":"0"}]', Buffer.from([1])]],
    ["placeholder num missing", ['51-["a",{"_placeholder":true}]', Buffer.from([1])]],
    ["placeholder num null", ['51-["a",{"_placeholder":true,"num":null}]', Buffer.from([1])]],
    ["placeholder num huge", ['51-["a",{"_placeholder":true,"num":1e300}]', Buffer.from([1])]],
    ["text while attachments are pending", ['51-["a",{"_placeholder":true,"num":0}]', '2["b"]']],
    [
      "text while the second attachment is pending",
      ['52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]', Buffer.from([1]), "1"],
    ],
    ["a Buffer with no pending binary packet", [Buffer.from([1, 2, 3])]],
    ["an empty Buffer with no pending binary packet", [Buffer.alloc(0)]],
  ];

  for (const [name, messages] of refused) {
    test(name, () => {
      decodeError(messages);
    });
  }

  test("a Buffer after a complete text packet", () => {
    const decoder = new SocketPacketDecoder();
    assert.ok(decoder.add('2["a"]')?.packet);
    assert.equal(typeof decoder.add(Buffer.from([1]))?.error, "string");
  });

  for (const reserved of ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"]) {
    test(`EVENT named "${reserved}" is refused`, () => {
      decodeError([`2["${reserved}"]`]);
      decodeError([`2/admin,1["${reserved}",1,2]`]);
    });
  }

  test("a custom maxAttachments is honoured", () => {
    const header = (n: number) => `5${n}-["a",${Array.from({ length: n }, (_, i) => JSON.stringify(ph(i))).join(",")}]`;
    decodeError([header(3)], 2);
    const decoder = new SocketPacketDecoder(2);
    assert.equal(decoder.add(header(2)), undefined);
    decoder.add(Buffer.from([1]));
    assert.ok(decoder.add(Buffer.from([2]))?.packet);
    // and a larger limit lets 11 through
    const big = new SocketPacketDecoder(20);
    assert.equal(big.add(header(11)), undefined, "11 attachments are fine under a limit of 20");
    assert.ok("header" in decodeSocketPacketText(header(11), 20));
    assert.ok("error" in decodeSocketPacketText(header(11)));
  });

  test("refusals match socket.io-parser, which throws on each of them", () => {
    // every text form socket.io-parser refuses, we refuse too ("" is a CONNECT to socket.io-parser, as
    // Number("") is 0: we refuse it)
    const texts = [
      "9",
      '2["a"',
      "2{}",
      "2[]",
      "2[null]",
      '2["connect"]',
      "0[]",
      '0"x"',
      "1{}",
      '50-["a"]',
      '511-["a",{"_placeholder":true,"num":0}]',
      '5a-["a"]',
    ];
    for (const t of texts) {
      assert.throws(() => oracleDecode([t]), `socket.io-parser refuses ${JSON.stringify(t)}`);
      decodeError([t]);
    }
  });
});

describe("Socket.IO codec: hostile payloads", () => {
  test('a JSON "__proto__" key does not pollute Object.prototype or change the prototype', () => {
    const p = decodeOk('2["e",{"__proto__":{"polluted":true}}]');
    const obj = (p.data as unknown[])[1] as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(obj), Object.prototype);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(obj.polluted, undefined);
    assert.ok(Object.hasOwn(obj, "__proto__"), "it stays a plain own key");

    const connect = decodeOk('0{"__proto__":{"polluted":true}}');
    assert.equal(Object.getPrototypeOf(connect.data), Object.prototype);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('a placeholder under a "__proto__" key is filled in as a plain key', () => {
    const buf = Buffer.from([7]);
    const p = decodeOk(
      '51-["e",{"__proto__":{"_placeholder":true,"num":0}},{"a":{"__proto__":{"polluted":true,"b":{"_placeholder":true,"num":0}}}}]',
      [buf],
    );
    const [, first, second] = p.data as [string, Record<string, unknown>, { a: Record<string, unknown> }];
    assert.equal(Object.getPrototypeOf(first), Object.prototype, "the prototype is untouched");
    assert.ok(Object.hasOwn(first, "__proto__"));
    assert.equal(Object.getOwnPropertyDescriptor(first, "__proto__")?.value, buf);
    const nested = Object.getOwnPropertyDescriptor(second.a, "__proto__")?.value as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(second.a), Object.prototype);
    assert.equal(nested.b, buf);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal((Object.prototype as Record<string, unknown>)._placeholder, undefined);
  });

  test("100k levels of nested arrays give a packet or an error, never a throw", () => {
    const depth = 100_000;
    const deep = `${"[".repeat(depth)}${"]".repeat(depth)}`;
    const binary = new SocketPacketDecoder();
    let out: DecodeResult | undefined;
    assert.doesNotThrow(() => {
      out = binary.add(`51-["deep",{"_placeholder":true,"num":0},${deep}]`);
      if (out === undefined) out = binary.add(Buffer.from([1]));
    });
    assert.ok(out, "a result");
    assert.ok(out.packet !== undefined || typeof out.error === "string");
    // the placeholder before the deep part is filled when the whole tree could be walked
    if (out.packet) assert.deepEqual((out.packet.data as unknown[])[1], Buffer.from([1]));

    const text = new SocketPacketDecoder();
    let plain: DecodeResult | undefined;
    assert.doesNotThrow(() => {
      plain = text.add(`2["deep",${deep}]`);
    });
    assert.ok(plain && (plain.packet !== undefined || typeof plain.error === "string"));

    const objects = `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
    const objDecoder = new SocketPacketDecoder();
    assert.doesNotThrow(() => {
      const r =
        objDecoder.add(`51-["deep",${objects},{"_placeholder":true,"num":0}]`) ?? objDecoder.add(Buffer.from([1]));
      assert.ok(r && (r.packet !== undefined || typeof r.error === "string"));
    });
  });
});

// ---- properties ----

/** JSON values as a JSON round trip gives them back (JSON turns -0 into 0, at any depth). */
const asJsonGivesBack = (v: unknown): unknown => JSON.parse(JSON.stringify(v));
const leaf = fc.jsonValue({ maxDepth: 1 }).map(asJsonGivesBack);
const buffer = fc.uint8Array({ maxLength: 24 }).map((a) => Buffer.from(a));
const noProtoKey = fc.string({ maxLength: 8 }).filter((k) => k !== "__proto__");

/** JSON-compatible data with Buffers at random positions. */
const { tree } = fc.letrec<{ tree: unknown }>((tie) => ({
  tree: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    buffer,
    fc.array(tie("tree"), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie("tree"), { maxKeys: 4, noNullPrototype: true }),
  ),
}));

/** The same without "__proto__" keys, which socket.io-parser's encoder turns into prototypes. */
const { oracleTree } = fc.letrec<{ oracleTree: unknown }>((tie) => ({
  oracleTree: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.jsonValue({ maxDepth: 0 }).map(asJsonGivesBack),
    buffer,
    fc.array(tie("oracleTree"), { maxLength: 4 }),
    fc.dictionary(noProtoKey, tie("oracleTree"), { maxKeys: 4, noNullPrototype: true }),
  ),
}));

const eventName = fc.oneof(
  fc.string({ maxLength: 12 }).filter((s) => !protocol.RESERVED_EVENTS.has(s)),
  fc.integer({ min: -1000, max: 1000 }),
);
const nsp = fc.oneof(
  fc.constant("/"),
  fc
    .string({ minLength: 1, maxLength: 10 })
    .filter((s) => !s.includes(","))
    .map((s) => `/${s}`),
);
const ackId = fc.option(fc.integer({ min: 0, max: 2 ** 31 - 1 }), { nil: undefined });

describe("Socket.IO codec: properties", () => {
  test("encode then decode gives the same data back, Buffers in place", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(EVENT, ACK),
        nsp,
        ackId,
        eventName,
        fc.array(tree, { maxLength: 5 }),
        (type, namespace, id, name, args) => {
          const ackIdOrDefault = type === ACK ? (id ?? 0) : id;
          const data = type === EVENT ? [name, ...args] : args;
          const { text, attachments } = encodeSocketPacket({ type, nsp: namespace, id: ackIdOrDefault, data });
          // copies, as if they had crossed the wire
          // our encoder may send more attachments than a client may (maxAttachments guards input only)
          const p = decodeOk(
            text,
            attachments.map((a) => Buffer.from(a)),
            new SocketPacketDecoder(LOTS),
          );
          assert.equal(p.type, type);
          assert.equal(p.nsp, namespace);
          assert.equal(p.id, ackIdOrDefault);
          assert.deepStrictEqual(p.data, data);
          assert.equal(attachments.length > 0, hasBinary(data));
        },
      ),
      { numRuns: 500 },
    );
  });

  test("any string or sequence of strings and Buffers: undefined, { packet } or { error }, never a throw", () => {
    const packetLike = fc
      .tuple(
        fc.constantFrom("0", "1", "2", "3", "4", "5", "6", "7", "9", "", "a"),
        fc.constantFrom("", "1-", "2-", "0-", "11-", "x-", "-"),
        fc.constantFrom("", "/", "/admin,", "/a", ","),
        fc.constantFrom("", "0", "12", "9".repeat(20)),
        fc.oneof(
          fc.jsonValue().map((v) => JSON.stringify(v)),
          fc.constantFrom('["a",{"_placeholder":true,"num":0}]', '[{"_placeholder":true,"num":-1}]', "[", '{"'),
          fc.string({ maxLength: 20 }),
        ),
      )
      .map((parts) => parts.join(""));
    const message = fc.oneof(fc.string({ maxLength: 60 }), packetLike, buffer);
    const check = (out: DecodeResult | undefined): void => {
      if (out === undefined) return;
      assert.ok(typeof out === "object" && out !== null);
      if (out.error !== undefined) {
        assert.equal(typeof out.error, "string");
        assert.equal(out.packet, undefined);
      } else {
        assert.ok(out.packet);
        assert.ok(out.packet.type >= 0 && out.packet.type <= 4, "binary types never leave the decoder");
        assert.equal(typeof out.packet.nsp, "string");
      }
    };
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        check(new SocketPacketDecoder().add(s));
        const direct = decodeSocketPacketText(s);
        assert.ok("error" in direct || "header" in direct);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.array(message, { maxLength: 8 }), fc.integer({ min: 1, max: 12 }), (messages, max) => {
        const decoder = new SocketPacketDecoder(max);
        for (const m of messages) check(decoder.add(m));
      }),
      { numRuns: 2000 },
    );
  });

  test("non-binary EVENT packets: the same text as socket.io-parser's Encoder", () => {
    fc.assert(
      fc.property(
        nsp,
        ackId,
        eventName,
        fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 5 }),
        (n, id, name, args) => {
          const data = [name, ...args];
          const ours = encodeSocketPacket({ type: EVENT, nsp: n, id, data });
          const theirs = oracleEncode(
            id === undefined ? { type: EVENT, nsp: n, data } : { type: EVENT, nsp: n, id, data },
          );
          assert.deepEqual([ours.text, ...ours.attachments], theirs);
        },
      ),
      { numRuns: 500 },
    );
  });

  test("binary EVENT/ACK packets: socket.io-parser's encoding decodes with ours, and ours with theirs", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(EVENT, ACK),
        nsp,
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        eventName,
        fc.array(oracleTree, { maxLength: 4 }),
        (type, n, id, name, args) => {
          const data = type === EVENT ? [name, ...args] : args;
          const theirs = oracleEncode({ type, nsp: n, id, data });
          const ours = encodeSocketPacket({ type, nsp: n, id, data });
          assert.deepEqual([ours.text, ...ours.attachments], theirs, "the same messages");
          const [text, ...attachments] = theirs;
          const p = decodeOk(text as string, attachments as Buffer[], new SocketPacketDecoder(LOTS));
          assert.deepStrictEqual({ type: p.type, nsp: p.nsp, id: p.id, data: p.data }, { type, nsp: n, id, data });
          assert.deepStrictEqual(oracleDecode([ours.text, ...ours.attachments], LOTS), { type, nsp: n, id, data });
        },
      ),
      { numRuns: 300 },
    );
  });
});
