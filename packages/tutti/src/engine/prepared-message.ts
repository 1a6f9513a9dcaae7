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

function buildFrame(packet: EnginePacket, supportsBinary: boolean): readonly Buffer[] {
  const parts = frameOf(encodeFrame(packet, supportsBinary));
  // One buffer, copied once per broadcast: a recipient with a single packet this turn then
  // costs one plain write instead of a two-entry writev (measured in bench/ fan-out).
  return parts.length === 1 ? parts : [Buffer.concat(parts)];
}

/** The unmasked WebSocket frame of an encoded Engine.IO packet, built by ws, as buffers in order. */
export function frameOf(encoded: string | Buffer): readonly Buffer[] {
  const binary = typeof encoded !== "string";
  const payload = binary ? encoded : Buffer.from(encoded, "utf8");
  return frame(payload, {
    fin: true,
    opcode: binary ? OPCODE_BINARY : OPCODE_TEXT,
    mask: false,
    readOnly: true,
    rsv1: false,
  });
}
