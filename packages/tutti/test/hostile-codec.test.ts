/**
 * Hostile input to both codecs, as properties: whatever a client sends, the Engine.IO and
 * Socket.IO decoders give back a well-formed packet or refuse it (`undefined`, `{ error }`),
 * never throw, never hang, never touch a prototype. protocol-properties.test.ts and
 * sio-codec.test.ts check that decoders do not throw on random strings and that encodings
 * round-trip; this file states exactly what is accepted (attachment counts, ack ids, placeholder
 * numbers), mutates valid encodings, nests a million levels deep, and walks what comes out.
 * There are no timing assertions: a hang would hit the test timeout.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { protocol } from "../src/index.js";

const {
  decodeFrame,
  decodePayload,
  decodeSocketPacketText,
  decodeTextPacket,
  encodePayload,
  encodeSocketPacket,
  EnginePacketTypes,
  RECORD_SEPARATOR,
  RESERVED_EVENTS,
  SocketPacketDecoder,
  SocketPacketType,
} = protocol;
type EnginePacket = protocol.EnginePacket;
type DecodeResult = protocol.DecodeResult;
type SocketPacket = protocol.SocketPacket;

const { CONNECT, DISCONNECT, EVENT, ACK, CONNECT_ERROR } = SocketPacketType;

/** A safety net: a hanging decoder fails its test instead of the run; not a timing assertion. */
const T = { timeout: 60_000 };

// ---- shared arbitraries ----

/** Any UTF-16 code unit, lone surrogates and controls included (what a WebSocket text frame cannot carry, a caller might). */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
/** Characters that mean something to one codec or the other. */
const special = fc.constantFrom(
  ...'0123456789-,/[]{}":_.eE+ b=\x1e\\'.split(""),
  "\u0000",
  "\ud800",
  "\udfff",
  "é",
  "😀",
);
const hostileString = (maxLength: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.oneof({ weight: 3, arbitrary: special }, { weight: 1, arbitrary: codeUnit }), maxLength });

/** One edit of a string: flip, insert, delete, duplicate a slice, or truncate. */
type Edit = { op: "flip" | "insert" | "delete" | "dup" | "truncate"; at: number; len: number; ch: string };
const edit: fc.Arbitrary<Edit> = fc.record({
  op: fc.constantFrom("flip", "insert", "delete", "dup", "truncate"),
  at: fc.nat({ max: 1000 }),
  len: fc.integer({ min: 1, max: 8 }),
  ch: fc.oneof(special, codeUnit),
});

function applyEdits(text: string, edits: readonly Edit[]): string {
  let out = text;
  for (const { op, at, len, ch } of edits) {
    const i = out.length === 0 ? 0 : at % (out.length + 1);
    switch (op) {
      case "flip":
        out = out.slice(0, i) + ch + out.slice(i + 1);
        break;
      case "insert":
        out = out.slice(0, i) + ch + out.slice(i);
        break;
      case "delete":
        out = out.slice(0, i) + out.slice(i + len);
        break;
      case "dup":
        out = out.slice(0, i + len) + out.slice(i, i + len) + out.slice(i + len);
        break;
      case "truncate":
        out = out.slice(0, i);
        break;
    }
  }
  return out;
}

/** The own property names of the built-in prototypes a pollution would touch. */
function prototypeSnapshot(): string[] {
  return [Object.prototype, Array.prototype, Function.prototype, String.prototype, Buffer.prototype].map((p) =>
    Reflect.ownKeys(p).map(String).sort().join(","),
  );
}

function assertNoPollution(before: readonly string[]): void {
  assert.deepEqual(prototypeSnapshot(), before, "no built-in prototype gained or lost a property");
  const probe = {} as Record<string, unknown>;
  for (const key of ["polluted", "isAdmin", "_placeholder", "num"]) assert.equal(probe[key], undefined);
}

// =====================================================================================
// Engine.IO
// =====================================================================================

/** What decodeTextPacket must give for `text`, straight from the spec's packet encoding. */
function expectedEnginePacket(text: string): EnginePacket | undefined {
  if (text.length === 0) return undefined;
  const first = text[0] as string;
  if (first === "b") {
    const b64 = text.slice(1);
    if (b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return undefined;
    return { type: "message", data: Buffer.from(b64, "base64") };
  }
  const digit = "0123456".indexOf(first);
  if (digit === -1) return undefined;
  const type = EnginePacketTypes[digit] as EnginePacket["type"];
  return text.length > 1 ? { type, data: text.slice(1) } : { type };
}

function assertWellFormedEnginePacket(p: EnginePacket): void {
  assert.ok(EnginePacketTypes.includes(p.type), `known type ${p.type}`);
  if (p.data !== undefined) {
    assert.ok(typeof p.data === "string" || Buffer.isBuffer(p.data), "data is text or a Buffer");
    if (Buffer.isBuffer(p.data)) assert.equal(p.type, "message", "only messages carry binary");
  }
}

const enginePacket: fc.Arbitrary<EnginePacket> = fc.oneof(
  fc
    .record({ type: fc.constantFrom(...EnginePacketTypes), data: hostileString(24) })
    .map((p) => ({ type: p.type, data: p.data.replaceAll(RECORD_SEPARATOR, "") })),
  fc.uint8Array({ maxLength: 24 }).map((a) => ({ type: "message" as const, data: Buffer.from(a) })),
);

describe("Engine.IO codec under hostile input", () => {
  test("any UTF-16 string: decodeTextPacket accepts exactly the spec's packets and nothing else", T, () => {
    const input = fc.oneof(
      hostileString(80),
      fc.string({ unit: codeUnit, maxLength: 80 }),
      fc.base64String({ maxLength: 40 }).map((s) => `b${s}`),
      fc.tuple(fc.constantFrom("b", "0", "4", "6", "7", "a"), hostileString(20)).map(([a, b]) => a + b),
    );
    fc.assert(
      fc.property(input, (text) => {
        const out = decodeTextPacket(text);
        assert.deepEqual(out, expectedEnginePacket(text));
        if (out !== undefined) assertWellFormedEnginePacket(out);
      }),
      { numRuns: 3000 },
    );
  });

  test(
    "arbitrary bytes in a text frame (invalid UTF-8 included) decode as their UTF-8 reading, or not at all",
    T,
    () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ maxLength: 120 }),
          fc.constantFrom(0x30, 0x32, 0x34, 0x36, 0x62, 0x78),
          (bytes, first) => {
            const buf = Buffer.concat([Buffer.from([first]), Buffer.from(bytes)]);
            const out = decodeFrame(buf, false);
            assert.deepEqual(out, decodeTextPacket(buf.toString("utf8")));
            if (out !== undefined) assertWellFormedEnginePacket(out);
            // a binary frame is always one binary message, whatever its bytes
            assert.deepEqual(decodeFrame(buf, true), { type: "message", data: buf });
          },
        ),
        { numRuns: 2000 },
      );
    },
  );

  test("mutated polling payloads: every record decodes, or the whole payload is refused", T, () => {
    fc.assert(
      fc.property(
        fc.array(enginePacket, { minLength: 1, maxLength: 6 }),
        fc.array(edit, { minLength: 1, maxLength: 4 }),
        (packets, edits) => {
          const payload = applyEdits(encodePayload(packets), edits);
          const out = decodePayload(payload);
          const records = payload.split(RECORD_SEPARATOR);
          if (out === undefined) {
            assert.ok(
              records.some((r) => expectedEnginePacket(r) === undefined),
              `refused although every record is valid: ${JSON.stringify(payload)}`,
            );
            return;
          }
          assert.equal(out.length, records.length, "one packet per record");
          out.forEach((p, i) => {
            assertWellFormedEnginePacket(p);
            assert.deepEqual(p, expectedEnginePacket(records[i] as string));
          });
        },
      ),
      { numRuns: 2000 },
    );
  });

  test("huge and pathological payloads are decoded or refused, in linear time", T, () => {
    const manyNoops = `${"6\x1e".repeat(500_000)}6`;
    assert.equal(decodePayload(manyNoops)?.length, 500_001);
    assert.equal(decodePayload("\x1e".repeat(1_000_000)), undefined, "a million empty records");
    assert.equal(decodePayload(`${"4a\x1e".repeat(200_000)}x`), undefined, "one bad record at the very end");
    // base64 that fails on its last character, and base64 that is valid: no backtracking blow-up
    assert.equal(decodeTextPacket(`b${"A".repeat(4_000_000)}!!!!`), undefined);
    assert.equal(decodeTextPacket(`b${"A".repeat(4_000_000)}=A==`), undefined);
    assert.equal(decodeTextPacket(`b${"+/".repeat(2_000_000)}`)?.data?.length, 3_000_000);
    assert.equal(decodeTextPacket(`4${"x".repeat(10_000_000)}`)?.data?.length, 10_000_000);
    assert.equal(decodeFrame(Buffer.alloc(5_000_000, 0xff), false), undefined, "5 MB of invalid UTF-8");
  });
});

// =====================================================================================
// Socket.IO
// =====================================================================================

/** Walks any value without recursion (the data may be a million levels deep). */
function* walk(root: unknown): Generator<unknown> {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    yield value;
    if (value === null || typeof value !== "object" || Buffer.isBuffer(value)) continue;
    for (const key of Reflect.ownKeys(value)) {
      const descriptor = Object.getOwnPropertyDescriptor(value, key);
      if (descriptor && "value" in descriptor) stack.push(descriptor.value);
    }
  }
}

function isPlainObject(value: unknown): boolean {
  return Object.prototype.toString.call(value) === "[object Object]";
}

/**
 * The invariants of anything the Socket.IO decoder hands out: binary types never leave it,
 * namespaces start with "/", ack ids are safe integers of at most 15 digits, each type's payload
 * has its shape, and a reassembled binary packet has no placeholder left and only the
 * attachments it was given.
 */
function assertWellFormedResult(out: DecodeResult, attachmentsSeen: ReadonlySet<Buffer>, binary: boolean): void {
  if (out.error !== undefined) {
    assert.equal(typeof out.error, "string");
    assert.ok(out.error.length > 0, "an error says why");
    assert.equal(out.packet, undefined);
    return;
  }
  const p: SocketPacket = out.packet;
  assert.ok([CONNECT, DISCONNECT, EVENT, ACK, CONNECT_ERROR].includes(p.type as 0), `type ${p.type}`);
  assert.equal(typeof p.nsp, "string");
  assert.ok(p.nsp.startsWith("/"), `namespace ${JSON.stringify(p.nsp)}`);
  assert.ok(!p.nsp.includes(","), "the namespace ends at its comma");
  if (p.id !== undefined) {
    assert.ok(Number.isSafeInteger(p.id) && p.id >= 0 && p.id <= 999_999_999_999_999, `ack id ${p.id}`);
  }
  switch (p.type) {
    case CONNECT:
      assert.ok(p.data === undefined || isPlainObject(p.data), "CONNECT auth is an object");
      break;
    case DISCONNECT:
      assert.equal(p.data, undefined);
      break;
    case EVENT: {
      assert.ok(Array.isArray(p.data) && p.data.length > 0, "EVENT data is a non-empty array");
      const name: unknown = p.data[0];
      assert.ok(
        typeof name === "number" || (typeof name === "string" && !RESERVED_EVENTS.has(name)),
        "an event name is a number or a non-reserved string",
      );
      break;
    }
    case ACK:
      assert.ok(Array.isArray(p.data), "ACK data is an array");
      assert.notEqual(p.id, undefined, "an ACK has an id");
      break;
    case CONNECT_ERROR:
      // socket.io-parser also takes a bare "4"; the server closes the connection on any CONNECT_ERROR
      assert.ok(p.data === undefined || typeof p.data === "string" || isPlainObject(p.data), "CONNECT_ERROR data");
      break;
  }
  if (binary) {
    for (const value of walk(p.data)) {
      if (Buffer.isBuffer(value)) assert.ok(attachmentsSeen.has(value), "only attachments it was given");
      else if (value !== null && typeof value === "object") {
        assert.notEqual((value as { _placeholder?: unknown })._placeholder, true, "no placeholder left");
      }
    }
  }
}

/** Feeds messages to one decoder, checking each result; after a packet, the decoder must be idle. */
function feed(messages: ReadonlyArray<string | Buffer>, maxAttachments?: number): Array<DecodeResult | undefined> {
  const decoder = new SocketPacketDecoder(maxAttachments);
  const results: Array<DecodeResult | undefined> = [];
  const seen = new Set<Buffer>();
  let binaryPending = false;
  for (const m of messages) {
    if (Buffer.isBuffer(m)) seen.add(m);
    let out: DecodeResult | undefined;
    assert.doesNotThrow(
      () => {
        out = decoder.add(m);
      },
      `decoding ${describeMessage(m)}`,
    );
    results.push(out);
    if (out === undefined) {
      binaryPending = true;
      continue;
    }
    assertWellFormedResult(out, seen, binaryPending && Buffer.isBuffer(m));
    binaryPending = false;
    if (out.packet !== undefined) {
      // a complete packet leaves no state behind: a fresh packet decodes on its own
      const probe = new SocketPacketDecoder(maxAttachments);
      const fresh = decoder.add('2["probe"]');
      assert.deepEqual(fresh, probe.add('2["probe"]'));
    }
  }
  return results;
}

function describeMessage(m: string | Buffer): string {
  return typeof m === "string" ? JSON.stringify(m.length > 80 ? `${m.slice(0, 80)}...` : m) : `<Buffer ${m.length}>`;
}

/** A JSON text tree whose object keys come from the names a prototype pollution uses. */
const dangerousKey = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("__proto__", "constructor", "prototype", "toString", "valueOf") },
  { weight: 2, arbitrary: fc.constantFrom("hasOwnProperty", "__defineGetter__", "isAdmin", "polluted", "num") },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
);
const placeholderText = (max: number): fc.Arbitrary<string> =>
  fc.integer({ min: 0, max: max - 1 }).map((n) => `{"_placeholder":true,"num":${n}}`);
const leafText = fc.jsonValue({ maxDepth: 0 }).map((v) => JSON.stringify(v));

function jsonTree(placeholders: number): fc.Arbitrary<string> {
  const { node } = fc.letrec<{ node: string }>((tie) => ({
    node: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      leafText,
      placeholders > 0 ? placeholderText(placeholders) : leafText,
      fc.array(tie("node"), { maxLength: 4 }).map((items) => `[${items.join(",")}]`),
      fc
        .array(fc.tuple(dangerousKey, tie("node")), { maxLength: 4 })
        .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`),
    ),
  }));
  return node;
}
const objectTree = (placeholders: number): fc.Arbitrary<string> =>
  fc
    .array(fc.tuple(dangerousKey, jsonTree(placeholders)), { maxLength: 5 })
    .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`);

/**
 * The reference for a binary packet's data: JSON.parse (which keeps "__proto__" as an own key),
 * then each placeholder, outermost first, replaced by its attachment. Undefined when a
 * placeholder points at no attachment.
 */
function referenceFill(text: string, buffers: readonly Buffer[]): { value: unknown } | undefined {
  const bad = Symbol("bad");
  const fill = (value: unknown): unknown => {
    if (value === null || typeof value !== "object") return value;
    const ph = value as { _placeholder?: unknown; num?: unknown };
    if (ph._placeholder === true) {
      const num = ph.num;
      if (typeof num !== "number" || !Number.isInteger(num) || num < 0 || num >= buffers.length) throw bad;
      return buffers[num];
    }
    if (Array.isArray(value)) return value.map(fill);
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      Object.defineProperty(out, key, {
        value: fill((value as Record<string, unknown>)[key]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  };
  try {
    return { value: fill(JSON.parse(text)) };
  } catch (err) {
    if (err === bad) return undefined;
    throw err;
  }
}

const nsp = fc.constantFrom("/", "/admin", "/a/b", "/__proto__", "/constructor", "/ü");
const eventName = fc.oneof(
  fc.constantFrom("e", "__proto__", "constructor", "toString", "error", "message"),
  fc.integer({ min: -3, max: 3 }),
);
const buffer = fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a));
const dataTree = fc.jsonValue({ maxDepth: 3 });
const args = fc.array(dataTree, { maxLength: 4 });

/** Valid packets of every type, binary or not, encoded by our encoder. */
const validEncoding = fc.oneof(
  fc
    .tuple(
      nsp,
      fc.option(fc.nat({ max: 2 ** 31 - 1 }), { nil: undefined }),
      eventName,
      args,
      fc.array(buffer, { maxLength: 3 }),
    )
    .map(([n, id, name, args, bufs]) =>
      encodeSocketPacket({ type: EVENT, nsp: n, id, data: [name, ...args, ...bufs] }),
    ),
  fc
    .tuple(nsp, fc.nat({ max: 2 ** 31 - 1 }), args, fc.array(buffer, { maxLength: 3 }))
    .map(([n, id, args, bufs]) => encodeSocketPacket({ type: ACK, nsp: n, id, data: [...args, ...bufs] })),
  fc
    .tuple(nsp, fc.option(fc.dictionary(dangerousKey, dataTree, { noNullPrototype: true }), { nil: undefined }))
    .map(([n, auth]) => encodeSocketPacket({ type: CONNECT, nsp: n, data: auth })),
  nsp.map((n) => encodeSocketPacket({ type: DISCONNECT, nsp: n })),
  fc
    .tuple(nsp, fc.oneof(fc.string(), fc.record({ message: fc.string() })))
    .map(([n, data]) => encodeSocketPacket({ type: CONNECT_ERROR, nsp: n, data })),
);

/** What may happen to the attachments on their way: dropped, repeated, reordered, or text slipped in between. */
const attachmentMangling = fc.constantFrom(
  "none",
  "drop-last",
  "drop-all",
  "duplicate",
  "extra",
  "reverse",
  "text-between",
);

function mangle(attachments: readonly Buffer[], how: string): Array<string | Buffer> {
  const copy = attachments.map((a) => Buffer.from(a));
  switch (how) {
    case "drop-last":
      return copy.slice(0, -1);
    case "drop-all":
      return [];
    case "duplicate":
      return copy.flatMap((a) => [a, Buffer.from(a)]);
    case "extra":
      return [...copy, Buffer.from([0xde, 0xad])];
    case "reverse":
      return copy.reverse();
    case "text-between":
      return copy.length > 0 ? [copy[0] as Buffer, '2["between"]', ...copy.slice(1)] : ['2["between"]'];
    default:
      return copy;
  }
}

describe("Socket.IO codec under hostile input", () => {
  test("mutated valid packets, with attachments lost, repeated or reordered: well-formed packets or errors", T, () => {
    fc.assert(
      fc.property(
        validEncoding,
        fc.array(edit, { maxLength: 4 }),
        attachmentMangling,
        fc.integer({ min: 1, max: 12 }),
        (encoded, edits, how, max) => {
          feed([applyEdits(encoded.text, edits), ...mangle(encoded.attachments, how), '2["after"]'], max);
        },
      ),
      { numRuns: 3000 },
    );
  });

  test("the attachment count is accepted exactly when it is 1 to 6 digits and at most maxAttachments", T, () => {
    const count = fc.oneof(
      fc.stringMatching(/^[0-9]{0,20}$/),
      fc.bigInt({ min: 0n, max: 10n ** 18n }).map(String),
      fc.constantFrom(
        "NaN",
        "-1",
        "+1",
        "1e3",
        "1e9",
        "1e15",
        " 1",
        "1 ",
        "0x1",
        "Infinity",
        "１",
        "١",
        "1.0",
        "01",
        "000001",
      ),
      fc.string({ unit: fc.oneof(special, codeUnit), maxLength: 8 }),
    );
    fc.assert(
      fc.property(
        count.filter((c) => !c.includes("-")),
        fc.oneof(fc.integer({ min: 1, max: 20 }), fc.constant(1_000_000), fc.constant(Number.MAX_SAFE_INTEGER)),
        fc.constantFrom("5", "6"),
        (c, max, type) => {
          const text = `${type}${c}-1["a",{"_placeholder":true,"num":0}]`;
          const out = decodeSocketPacketText(text, max);
          const accepted = /^[0-9]{1,6}$/.test(c) && Number(c) >= 1 && Number(c) <= max;
          assert.equal("header" in out, accepted, `${JSON.stringify(text)} with maxAttachments ${max}`);
          if ("header" in out) assert.equal((out.header as { expected?: number }).expected, Number(c));
          else assert.equal(typeof out.error, "string");
        },
      ),
      { numRuns: 3000 },
    );
  });

  test("a huge declared attachment count allocates nothing up front and waits for its buffers", T, () => {
    const decoder = new SocketPacketDecoder(Number.MAX_SAFE_INTEGER);
    assert.equal(decoder.add('5999999-["a",{"_placeholder":true,"num":0}]'), undefined);
    for (let i = 0; i < 5; i++) assert.equal(decoder.add(Buffer.from([i])), undefined);
    // text while the attachments are due refuses the packet
    assert.equal(typeof decoder.add('2["a"]')?.error, "string");
    // the digit run is bounded before it is read as a number, whatever its length
    assert.ok(
      "error" in decodeSocketPacketText(`5${"9".repeat(1_000_000)}-["a"]`, Number.MAX_SAFE_INTEGER),
      "a million digits",
    );
    assert.ok("error" in decodeSocketPacketText(`5${"1".repeat(1_000_000)}`), "no dash at all");
    assert.ok("error" in decodeSocketPacketText(`51000000000-["a"]`, Number.MAX_SAFE_INTEGER), "1e9 attachments");
  });

  test("ack ids: a run of 1 to 15 digits is the id, longer is refused, and no sign or exponent makes one", T, () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[0-9]{1,40}$/),
        fc.constantFrom("", "/admin,"),
        fc.constantFrom('["a",1]', "[]"),
        (digits, prefix, json) => {
          for (const type of [EVENT, ACK]) {
            const out = new SocketPacketDecoder().add(`${type}${prefix}${digits}${json}`);
            assert.ok(out, "a text packet gives a result");
            if (digits.length > 15) {
              assert.equal(typeof out.error, "string", `${digits.length} digits are refused`);
              continue;
            }
            if (type === EVENT && json === "[]") {
              assert.equal(typeof out.error, "string", "an EVENT needs a name");
              continue;
            }
            assert.equal(out.error, undefined);
            assert.equal(out.packet?.id, Number(digits));
            assert.ok(Number.isSafeInteger(out.packet?.id), "a safe integer");
          }
        },
      ),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(
        fc.constantFrom("-", "+", " ", ".", "e", "E", "x", "0x", "1e", "1.", "-0", "\u0661", "\uff11"),
        fc.stringMatching(/^[0-9]{1,6}$/),
        (sign, digits) => {
          for (const type of [EVENT, ACK]) {
            const out = new SocketPacketDecoder().add(`${type}${sign}${digits}["a"]`);
            assert.equal(typeof out?.error, "string", `${JSON.stringify(`${type}${sign}${digits}["a"]`)} is refused`);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test("placeholders: a binary packet decodes exactly when every num is an integer in [0, attachments)", T, () => {
    const numText = fc.oneof(
      fc.integer({ min: -3, max: 12 }).map(String),
      fc.constantFrom("-0", "0.0", "1.0", "1e0", "0.5", "1e300", "-1e-300", '"0"', "null", "true", "[0]", "{}", "NaN"),
      fc.jsonValue({ maxDepth: 1 }).map((v) => JSON.stringify(v)),
    );
    const flag = fc.constantFrom("true", "true", "true", "1", '"true"', "false", "null");
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), numText, flag, (n, num, placeholder) => {
        const text = `5${n}-1["a",{"_placeholder":${placeholder},"num":${num}}]`;
        const buffers = Array.from({ length: n }, (_, i) => Buffer.from([i]));
        const results = feed([text, ...buffers]);
        const last = results.at(-1);
        let parsed: unknown;
        try {
          parsed = JSON.parse(num);
        } catch {
          assert.equal(typeof results[0]?.error, "string", "invalid JSON is refused at once");
          return;
        }
        assert.ok(last, `${text} gives a result once its ${n} buffers are in`);
        const valid =
          placeholder !== "true" ||
          (typeof parsed === "number" && Number.isInteger(parsed) && parsed >= 0 && parsed < n);
        assert.equal(last.packet !== undefined, valid, `${text}: ${last.error ?? "decoded"}`);
        if (last.packet && placeholder === "true") {
          assert.equal((last.packet.data as unknown[])[1], buffers[parsed as number]);
        }
      }),
      { numRuns: 2000 },
    );
  });

  test("__proto__, constructor and prototype keys at any depth never reach a prototype", T, () => {
    const before = prototypeSnapshot();
    fc.assert(
      fc.property(jsonTree(3), objectTree(0), nsp, (tree, auth, n) => {
        const prefix = n === "/" ? "" : `${n},`;
        // as a text EVENT: the JSON comes back as JSON.parse gives it, __proto__ an own key
        const text = new SocketPacketDecoder().add(`2${prefix}["e",${tree}]`);
        assert.ok(text?.packet, `2["e",${tree}] decodes`);
        assert.deepStrictEqual(text.packet.data, ["e", JSON.parse(tree)]);
        // as a binary EVENT: placeholders filled in as own keys, outermost first
        const buffers = [Buffer.from([0]), Buffer.from([1]), Buffer.from([2])];
        const results = feed([`53-${prefix}["e",${tree}]`, ...buffers]);
        const binary = results.at(-1);
        const reference = referenceFill(`["e",${tree}]`, buffers);
        assert.ok(binary, "a result once the attachments are in");
        assert.equal(binary.packet !== undefined, reference !== undefined, binary.error);
        if (binary.packet && reference) assert.deepStrictEqual(binary.packet.data, reference.value);
        // as CONNECT auth
        const connect = new SocketPacketDecoder().add(`0${prefix}${auth}`);
        assert.ok(connect?.packet, "the CONNECT decodes");
        assert.equal(Object.getPrototypeOf(connect.packet.data), Object.prototype);
        assert.deepStrictEqual(connect.packet.data, JSON.parse(auth));
        for (const out of [text.packet, binary.packet, connect.packet]) {
          for (const value of walk(out?.data)) {
            if (value === null || typeof value !== "object") continue;
            const proto = Object.getPrototypeOf(value);
            assert.ok(
              proto === Object.prototype || proto === Array.prototype || proto === Buffer.prototype,
              "every object keeps its own built-in prototype",
            );
          }
        }
        assertNoPollution(before);
      }),
      { numRuns: 1500 },
    );
  });

  test("deep nesting anywhere in any packet: a packet or an error, never a throw", T, () => {
    const opener = { array: ["[", "]"], object: ['{"a":', "}"], mixed: ['[{"__proto__":', "}]"] } as const;
    fc.assert(
      fc.property(
        fc.integer({ min: 1_000, max: 200_000 }),
        fc.constantFrom("array", "object", "mixed"),
        fc.constantFrom("event", "ack", "connect", "connect_error", "binary-bottom", "binary-top", "binary-ack"),
        (depth, shape, where) => {
          const [open, close] = opener[shape as keyof typeof opener];
          const deep = (inner: string): string => `${open.repeat(depth)}${inner}${close.repeat(depth)}`;
          const ph = '{"_placeholder":true,"num":0}';
          const messages: Record<string, Array<string | Buffer>> = {
            event: [`2["deep",${deep("1")}]`],
            ack: [`3/admin,7[${deep("null")}]`],
            connect: [`0{"deep":${deep("0")}}`],
            connect_error: [`4{"message":"m","data":${deep('"x"')}}`],
            "binary-bottom": [`51-["deep",${deep(ph)}]`, Buffer.from([1])],
            "binary-top": [`51-["deep",${ph},${deep("2")}]`, Buffer.from([1])],
            "binary-ack": [`61-9[${deep(ph)}]`, Buffer.from([1])],
          };
          const results = feed([...(messages[where] as Array<string | Buffer>), '2["after"]']);
          const result = results.at(-2);
          assert.ok(result, "a result once every message is in");
        },
      ),
      { numRuns: 40 },
    );
  });

  test("a million levels of nesting, text and binary: refused or decoded, and the decoder carries on", T, () => {
    const depth = 1_000_000;
    const arrays = `${"[".repeat(depth)}${"]".repeat(depth)}`;
    const objects = `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
    const ph = '{"_placeholder":true,"num":0}';
    const deepPlaceholder = `${"[".repeat(depth)}${ph}${"]".repeat(depth)}`;
    for (const messages of [
      [`2["deep",${arrays}]`],
      [`2["deep",${objects}]`],
      [`0{"auth":${objects}}`],
      [`51-["deep",${deepPlaceholder}]`, Buffer.from([1])],
      [`51-["deep",${ph},${objects}]`, Buffer.from([1])],
    ]) {
      const results = feed([...messages, '2["after"]']);
      assert.ok(results.at(-2), `a result for ${describeMessage(messages[0] as string)}`);
      assert.ok(results.at(-1)?.packet, "the same decoder decodes the next packet");
    }
    // unbalanced: a million openers and nothing else
    assert.ok("error" in decodeSocketPacketText(`2${"[".repeat(depth)}`), "unbalanced arrays");
    assert.ok("error" in decodeSocketPacketText(`2["e",${'{"a":'.repeat(depth)}`), "unbalanced objects");
  });

  test("sequences of hostile messages on one decoder: every result well-formed, nothing thrown", T, () => {
    const message = fc.oneof(
      hostileString(60),
      validEncoding.chain((e) => fc.constantFrom<Array<string | Buffer>>([e.text, ...e.attachments], [e.text])),
      buffer,
      fc.constantFrom(
        '51-["a",{"_placeholder":true,"num":0}]',
        '52-/admin,3["a",{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]',
        '61-5[{"_placeholder":true,"num":0}]',
        '5999999-["a"]',
        '510-["a"]',
        "",
      ),
    );
    fc.assert(
      fc.property(fc.array(message, { maxLength: 12 }), fc.integer({ min: 1, max: 12 }), (items, max) => {
        feed(items.flat(), max);
      }),
      { numRuns: 2000 },
    );
  });

  test("pathological long inputs finish (digit runs, namespaces, strings of escapes)", T, () => {
    const decoder = () => new SocketPacketDecoder();
    assert.equal(typeof decoder().add(`2${"1".repeat(1_000_000)}["a"]`)?.error, "string");
    assert.equal(decoder().add(`0/${"a".repeat(1_000_000)},`)?.packet?.nsp.length, 1_000_001);
    assert.equal(typeof decoder().add(`0/${",".repeat(1_000_000)}`)?.error, "string");
    assert.equal(typeof decoder().add(`2["${"\\".repeat(1_000_001)}"]`)?.error, "string");
    const escapes = decoder().add(`2["${"\\\\".repeat(500_000)}"]`)?.packet?.data as string[] | undefined;
    assert.equal(escapes?.[0]?.length, 500_000);
    // half a million arguments: all of them, or refused (no function call can take that many)
    const manyArgs = decoder().add(`2["e"${",0".repeat(500_000)}]`);
    if (manyArgs?.error === undefined) assert.equal((manyArgs?.packet?.data as unknown[] | undefined)?.length, 500_001);
  });
});
