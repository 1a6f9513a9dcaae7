/**
 * Parsers for the parser tests: a hand-written one in the spirit of socket.io's custom-parsers
 * example (JSON with a framing of its own, binary values as binary messages after the header),
 * usable by the official client and the server alike; and a decoder that trusts its input, for
 * the hostile tests.
 */
import { EventEmitter } from "node:events";
import { createRequire } from "node:module";
import type { Parser, protocol } from "../src/index.js";

type SocketPacket = protocol.SocketPacket;

const require = createRequire(import.meta.url);

/** socket.io-json-parser ships no types; its shape is socket.io's parser contract. */
export const jsonParser = require("socket.io-json-parser") as Parser;

function isBinary(value: unknown): value is ArrayBuffer | ArrayBufferView {
  return value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

function toBuffer(value: ArrayBuffer | ArrayBufferView): Buffer {
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/**
 * "F|type|nsp|id|attachments|json": the header as text, then one binary message per binary
 * value, which the JSON holds as `{"$bin": n}`.
 */
export class FramedEncoder {
  encode(packet: SocketPacket): Array<string | Buffer> {
    const buffers: Buffer[] = [];
    const json =
      packet.data === undefined
        ? ""
        : JSON.stringify(packet.data, function (this: Record<string, unknown>, key: string, value: unknown) {
            const raw = this[key];
            if (!isBinary(raw)) return value;
            buffers.push(toBuffer(raw));
            return { $bin: buffers.length - 1 };
          });
    return [`F|${packet.type}|${packet.nsp}|${packet.id ?? ""}|${buffers.length}|${json}`, ...buffers];
  }
}

export class FramedDecoder extends EventEmitter {
  #header: { type: number; nsp: string; id: number | undefined; json: string; expected: number } | undefined;
  #buffers: Buffer[] = [];

  add(message: string | Buffer | ArrayBuffer): void {
    if (typeof message === "string") {
      if (this.#header !== undefined) throw new Error("text while binary messages are due");
      const fields = message.split("|");
      if (fields.length < 6 || fields[0] !== "F") throw new Error("not a framed packet");
      const [, type, nsp, id, count] = fields;
      const json = fields.slice(5).join("|");
      this.#header = {
        type: Number(type),
        nsp: nsp ?? "",
        id: id ? Number(id) : undefined,
        json,
        expected: Number(count),
      };
      this.#buffers = [];
    } else {
      if (this.#header === undefined) throw new Error("binary without a header");
      this.#buffers.push(Buffer.isBuffer(message) ? message : Buffer.from(message));
    }
    const header = this.#header;
    if (header.expected > this.#buffers.length) return;
    this.#header = undefined;
    const buffers = this.#buffers;
    const data =
      header.json === ""
        ? undefined
        : JSON.parse(header.json, (_key, value: unknown) => {
            const ref = value as { $bin?: unknown } | null;
            return typeof ref === "object" && ref !== null && typeof ref.$bin === "number" ? buffers[ref.$bin] : value;
          });
    const packet: { type: number; nsp: string; id?: number; data?: unknown } = { type: header.type, nsp: header.nsp };
    if (header.id !== undefined) packet.id = header.id;
    if (data !== undefined) packet.data = data;
    this.emit("decoded", packet);
  }

  destroy(): void {
    this.#header = undefined;
    this.#buffers = [];
  }
}

export const framedParser: Parser = { Encoder: FramedEncoder, Decoder: FramedDecoder };

/**
 * A decoder that emits whatever JSON a text message holds, unchecked, and holds binary messages
 * without ever emitting: what a careless custom decoder does with a hostile client's input.
 */
export class TrustingDecoder extends EventEmitter {
  add(message: string | Buffer): void {
    if (typeof message !== "string") return;
    if (message === "throw") throw new Error("the decoder gave up");
    this.emit("decoded", JSON.parse(message));
  }

  destroy(): void {}
}

export class JsonEncoder {
  encode(packet: SocketPacket): string[] {
    return [JSON.stringify(packet)];
  }
}

export const trustingParser: Parser = { Encoder: JsonEncoder, Decoder: TrustingDecoder };
