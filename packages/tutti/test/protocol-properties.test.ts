/** Property tests of the Engine.IO codec: any input decodes or is refused, and encode/decode round-trip. */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { protocol } from "../src/index.js";

const { decodeFrame, decodePayload, decodeTextPacket, encodeFrame, encodePayload, EnginePacketTypes } = protocol;
type EnginePacket = protocol.EnginePacket;

/** Text that never contains the record separator, which the v4 payload format reserves. */
const text = fc.string({ unit: "grapheme", maxLength: 64 }).filter((s) => !s.includes("\x1e"));
const binary = fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a));
const packet: fc.Arbitrary<EnginePacket> = fc.oneof(
  fc
    .record({ type: fc.constantFrom(...EnginePacketTypes), data: text })
    .map((p) => (p.data === "" ? { type: p.type } : p)),
  binary.map((data) => ({ type: "message" as const, data })),
);

/** What decoding gives back: a plain object, and no data for empty text. */
function normalize(p: EnginePacket): EnginePacket {
  return p.data === undefined || p.data === "" ? { type: p.type } : { type: p.type, data: p.data };
}

test("decoders never throw, whatever the input", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (input) => {
      decodeTextPacket(input);
      decodePayload(input);
      decodeFrame(input, false);
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      const buf = Buffer.from(bytes);
      decodeFrame(buf, false);
      assert.deepEqual(decodeFrame(buf, true), { type: "message", data: buf });
    }),
    { numRuns: 1000 },
  );
});

test("a decoded payload is all valid packets or nothing", () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(text, fc.constant("abc"), fc.constant("")), { minLength: 1, maxLength: 6 }),
      (records) => {
        const decoded = decodePayload(records.join("\x1e"));
        const allValid = records.every((r) => decodeTextPacket(r) !== undefined);
        assert.equal(decoded !== undefined, allValid);
        if (decoded) assert.equal(decoded.length, records.length);
      },
    ),
  );
});

test("polling payloads round-trip", () => {
  fc.assert(
    fc.property(fc.array(packet, { minLength: 1, maxLength: 8 }), (packets) => {
      const decoded = decodePayload(encodePayload(packets));
      assert.deepEqual(decoded, packets.map(normalize));
    }),
    { numRuns: 500 },
  );
});

test("websocket frames round-trip, with and without binary support", () => {
  fc.assert(
    fc.property(packet, fc.boolean(), (p, supportsBinary) => {
      const frame = encodeFrame(p, supportsBinary);
      const decoded = typeof frame === "string" ? decodeFrame(frame, false) : decodeFrame(frame, true);
      assert.deepEqual(decoded, normalize(p));
    }),
    { numRuns: 500 },
  );
});
