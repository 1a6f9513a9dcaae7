import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { protocol } from "../src/index.js";

const { decodeFrame, decodePayload, decodeTextPacket, encodeFrame, encodePayload, packetByteLength } = protocol;

describe("Engine.IO packet codec", () => {
  test("encodes each packet type with its digit", () => {
    const types = protocol.EnginePacketTypes;
    types.forEach((type, i) => {
      assert.equal(encodeFrame({ type }), String(i));
    });
    assert.equal(encodeFrame({ type: "message", data: "hello" }), "4hello");
    assert.equal(encodeFrame({ type: "ping", data: "probe" }), "2probe");
  });

  test("binary messages go as-is in a frame, base64 with b prefix when the client asked b64", () => {
    const data = Buffer.from([1, 2, 3, 4]);
    assert.equal(encodeFrame({ type: "message", data }), data);
    assert.equal(encodeFrame({ type: "message", data }, false), "bAQIDBA==");
  });

  test("a polling payload joins packets with the record separator, binary as b + base64", () => {
    const payload = encodePayload([
      { type: "message", data: "hello" },
      { type: "message", data: Buffer.from([1, 2, 3, 4]) },
      { type: "ping" },
    ]);
    assert.equal(payload, "4hello\x1ebAQIDBA==\x1e2");
  });

  test("decodes a polling payload back", () => {
    const packets = decodePayload("4hello\x1ebAQIDBA==\x1e2\x1e4€ and 😀");
    assert.ok(packets);
    assert.equal(packets.length, 4);
    assert.deepEqual(packets[0], { type: "message", data: "hello" });
    assert.equal(packets[1]?.type, "message");
    assert.deepEqual(packets[1]?.data, Buffer.from([1, 2, 3, 4]));
    assert.deepEqual(packets[2], { type: "ping" });
    assert.deepEqual(packets[3], { type: "message", data: "€ and 😀" });
  });

  test("refuses unknown types, empty records and bad base64 without throwing", () => {
    assert.equal(decodeTextPacket(""), undefined);
    assert.equal(decodeTextPacket("7"), undefined);
    assert.equal(decodeTextPacket("abc"), undefined);
    assert.equal(decodeTextPacket("b@@@"), undefined);
    assert.deepEqual(decodeTextPacket("bAQIDBA=="), { type: "message", data: Buffer.from([1, 2, 3, 4]) });
    assert.equal(decodeTextPacket("bAQIDB"), undefined); // not a multiple of 4
    assert.equal(decodePayload("4hello\x1eabc"), undefined);
    assert.equal(decodePayload("4hello\x1e"), undefined);
    assert.equal(decodePayload(""), undefined);
  });

  test("a binary WebSocket frame is a binary message; a text frame is decoded", () => {
    const bin = Buffer.from([0, 255]);
    assert.deepEqual(decodeFrame(bin, true), { type: "message", data: bin });
    assert.deepEqual(decodeFrame(Buffer.from("4hi"), false), { type: "message", data: "hi" });
    assert.deepEqual(decodeFrame("3probe", false), { type: "pong", data: "probe" });
    assert.equal(decodeFrame("x", false), undefined);
  });

  test("round-trips any text message through both encodings", () => {
    const samples = ["", "a", "4", "\u0000", "é€😀", "x".repeat(10_000), "multi\nline", '{"a":[1,2]}'];
    for (const data of samples) {
      const packet = { type: "message", data } as const;
      assert.deepEqual(decodeFrame(encodeFrame(packet) as string, false), data === "" ? { type: "message" } : packet);
      const decoded = decodePayload(encodePayload([packet, packet]));
      assert.equal(decoded?.length, 2);
    }
  });

  test("counts wire bytes for buffer accounting", () => {
    assert.equal(packetByteLength({ type: "ping" }), 1);
    assert.equal(packetByteLength({ type: "message", data: "é" }), 3);
    assert.equal(packetByteLength({ type: "message", data: Buffer.alloc(10) }), 10);
  });
});
