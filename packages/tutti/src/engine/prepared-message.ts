import * as wsModule from "ws";
import { type EnginePacket, encodeFrame, encodePayloadPacket, packetByteLength } from "../protocol/engine-packet.js";
import type { QueuedPacket } from "./transport.js";

interface FrameOptions {
  fin: boolean;
  opcode: number;
  mask: boolean;
  readOnly: boolean;
  rsv1: boolean;
}

/** ws's own framing function: `Sender` is a named export of ws, absent from @types/ws. */
const frame = (wsModule as unknown as { Sender: { frame(data: Buffer, options: FrameOptions): Buffer[] } }).Sender
  .frame;

const OPCODE_TEXT = 1;
const OPCODE_BINARY = 2;

/**
 * A message packet encoded once for many sessions (a broadcast). Each wire form is built on
 * first use and then shared by every recipient: the WebSocket frame (header and payload
 * buffers, built by `ws`), its base64 variant for clients without binary support, and the
 * long-polling record.
 */
export class PreparedMessage implements QueuedPacket {
  readonly packet: EnginePacket;
  /** Bytes on the wire, counted against each recipient's buffer limit. */
  readonly size: number;
  // As a queue entry of its own (compression allowed, no callback), the message is queued on
  // every recipient without an entry object per recipient: a measured share of a broadcast's GC.
  readonly compress = true;
  readonly callback = undefined;
  readonly prepared: PreparedMessage = this;
  #frame: readonly Buffer[] | undefined;
  #frameBase64: readonly Buffer[] | undefined;
  #record: string | undefined;

  constructor(data: string | Buffer) {
    this.packet = { type: "message", data };
    this.size = packetByteLength(this.packet);
  }

  /** The complete unmasked WebSocket frame, as buffers to write in order. */
  webSocketFrame(supportsBinary: boolean): readonly Buffer[] {
    if (supportsBinary) {
      this.#frame ??= buildFrame(this.packet, true);
      return this.#frame;
    }
    this.#frameBase64 ??= buildFrame(this.packet, false);
    return this.#frameBase64;
  }

  /** The packet as one record of a long-polling payload. */
  pollingRecord(): string {
    this.#record ??= encodePayloadPacket(this.packet);
    return this.#record;
  }
}

/**
 * The frame as one buffer: a recipient with a single packet this turn then costs one plain write
 * instead of a two-entry writev (measured in bench/ fan-out).
 */
function buildFrame(packet: EnginePacket, supportsBinary: boolean): readonly Buffer[] {
  const parts = frameOf(encodeFrame(packet, supportsBinary));
  return parts.length === 1 ? parts : [Buffer.concat(parts)];
}

/**
 * The unmasked WebSocket frame of an encoded Engine.IO packet, built by ws, as buffers in order.
 * Text, the common case, is written straight into one buffer of the frame's exact size behind
 * the header: encoding it first and then concatenating left two dead buffers beside each live
 * frame in the same allocator pages, which a burst of thousands of frames kept resident
 * (measured in bench/, "Slow consumer"), and cost every single-socket packet three allocations.
 */
export function frameOf(encoded: string | Buffer): readonly Buffer[] {
  if (typeof encoded !== "string") return frameParts(encoded, OPCODE_BINARY);
  const length = Buffer.byteLength(encoded, "utf8");
  // the header sizes of RFC 6455 section 5.2, which ws writes below
  const headerLength = length <= 125 ? 2 : length < 65536 ? 4 : 10;
  const whole = Buffer.allocUnsafe(headerLength + length);
  const payload = whole.subarray(headerLength);
  payload.write(encoded, "utf8");
  const header = frameParts(payload, OPCODE_TEXT)[0] as Buffer;
  header.copy(whole, 0);
  return [whole];
}

function frameParts(payload: Buffer, opcode: number): readonly Buffer[] {
  return frame(payload, { fin: true, opcode, mask: false, readOnly: true, rsv1: false });
}
