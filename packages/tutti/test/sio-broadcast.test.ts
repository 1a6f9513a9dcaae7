import assert from "node:assert/strict";
import { test } from "node:test";
import { PreparedMessage, type protocol } from "../src/index.js";
import { FramedDecoder, FramedEncoder } from "./parser-helpers.js";
import { connected, startIo, TRANSPORT_MODES, waitFor } from "./sio-helpers.js";

test("a broadcast is encoded once for all its recipients, whatever their transports", async (t) => {
  const s = await startIo();
  t.after(() => s.close());
  const clients = [];
  for (const mode of TRANSPORT_MODES) for (let i = 0; i < 2; i++) clients.push(s.client("/", {}, mode));
  await Promise.all(clients.map((c) => connected(c)));
  const marker = `marker-${Math.random()}`;
  const stringify = JSON.stringify;
  let encodings = 0;
  JSON.stringify = ((value: unknown, ...rest: unknown[]) => {
    const out = (stringify as (v: unknown, ...r: unknown[]) => string)(value, ...rest);
    if (typeof out === "string" && out.includes(marker)) encodings++;
    return out;
  }) as typeof JSON.stringify;
  try {
    const received = clients.map((c) => waitFor<[string, Buffer]>(c, "news"));
    s.io.emit("news", marker, Buffer.from([1, 2, 3]));
    const results = await Promise.all(received);
    for (const [text, bin] of results) {
      assert.equal(text, marker);
      assert.deepEqual([...new Uint8Array(bin)], [1, 2, 3]);
    }
  } finally {
    JSON.stringify = stringify;
  }
  assert.equal(encodings, 1);
});

test("with a custom parser, a broadcast is encoded once too, and its packet stays at hand", async (t) => {
  const marker = `marker-${Math.random()}`;
  const encoded: protocol.SocketPacket[] = [];
  class CountingEncoder extends FramedEncoder {
    override encode(packet: protocol.SocketPacket): Array<string | Buffer> {
      if (JSON.stringify(packet.data)?.includes(marker) === true) encoded.push(packet);
      return super.encode(packet);
    }
  }
  const parser = { Encoder: CountingEncoder, Decoder: FramedDecoder };
  const s = await startIo({ parser });
  t.after(() => s.close());
  const clients = [];
  for (const mode of TRANSPORT_MODES) for (let i = 0; i < 2; i++) clients.push(s.client("/", { parser }, mode));
  await Promise.all(clients.map((c) => connected(c)));
  for (const socket of s.io.sockets.sockets.values()) socket.join("room");
  const received = clients.map((c) => waitFor<[string, Buffer]>(c, "news"));
  s.io.to("room").emit("news", marker, Buffer.from([1, 2, 3]));
  for (const [text, bin] of await Promise.all(received)) {
    assert.equal(text, marker);
    assert.deepEqual([...new Uint8Array(bin)], [1, 2, 3]);
  }
  assert.equal(encoded.length, 1, "one encode for six recipients");
  assert.deepEqual(encoded[0], { type: 2, nsp: "/", data: ["news", marker, Buffer.from([1, 2, 3])] });
  // what a cluster node forwards or a store keeps: the packet, encoded again where it is delivered
  const prepared = s.io.sockets.encode(["news", marker], 5);
  assert.deepEqual(prepared.packet, { type: 2, nsp: "/", id: 5, data: ["news", marker] });
  assert.equal(encoded.length, 1, "a packet nobody receives is never encoded");
});

test("a prepared message builds each wire form once and shares it", () => {
  const text = new PreparedMessage('2["news","hi"]');
  const frame = text.webSocketFrame(true);
  assert.equal(text.webSocketFrame(true), frame, "the same frame object for every recipient");
  const bytes = Buffer.concat(frame);
  assert.equal(bytes[0], 0x81, "FIN + text opcode");
  assert.equal(bytes[1], '42["news","hi"]'.length, "unmasked, 7-bit length");
  assert.equal(bytes.subarray(2).toString(), '42["news","hi"]');
  assert.equal(text.pollingRecord(), '42["news","hi"]');
  assert.equal(text.pollingRecord(), text.pollingRecord());

  const binary = new PreparedMessage(Buffer.alloc(70_000, 7));
  const big = Buffer.concat(binary.webSocketFrame(true));
  assert.equal(big[0], 0x82, "FIN + binary opcode");
  assert.equal(big[1], 127, "64-bit length");
  assert.equal(big.readUIntBE(4, 6), 70_000);
  assert.equal(big.length, 10 + 70_000);
  const b64 = Buffer.concat(binary.webSocketFrame(false));
  assert.equal(b64[0], 0x81, "base64 clients get a text frame");
  assert.equal(binary.pollingRecord(), `b${Buffer.alloc(70_000, 7).toString("base64")}`);
});
