/**
 * Engine.IO v4 packet codec (docs/engine.io-protocol/v4-current.md in socketio/socket.io).
 *
 * Pure functions, no I/O. Decoders never throw on bad input: they return `undefined`, and the
 * caller decides how to refuse it (the engine closes the session with "parse error").
 */

/** Packet type names by their wire digit. */
export const EnginePacketTypes = ["open", "close", "ping", "pong", "message", "upgrade", "noop"] as const;

export type EnginePacketType = (typeof EnginePacketTypes)[number];

/** Binary data as the engine carries it. */
export type BinaryData = Buffer;

/** A packet's payload: text, or binary for a message packet. */
export type PacketData = string | BinaryData;

export interface EnginePacket {
  readonly type: EnginePacketType;
  readonly data?: PacketData | undefined;
}

/** The record separator that joins packets in a long-polling payload (spec, "Packet encoding"). */
export const RECORD_SEPARATOR = "\x1e";

const TYPE_CODE: Readonly<Record<EnginePacketType, string>> = {
  open: "0",
  close: "1",
  ping: "2",
  pong: "3",
  message: "4",
  upgrade: "5",
  noop: "6",
};

function typeOfCode(code: number): EnginePacketType | undefined {
  // char codes "0".."6"
  const index = code - 48;
  return index >= 0 && index < EnginePacketTypes.length ? EnginePacketTypes[index] : undefined;
}

/**
 * Encodes one packet for the WebSocket transport: binary data travels as-is in a binary frame,
 * everything else as text `<type digit>[<data>]`. With `supportsBinary` false (the client asked
 * with `b64=1`), binary goes as text with the `b` prefix and base64.
 */
export function encodeFrame(packet: EnginePacket, supportsBinary = true): PacketData {
  const data = packet.data;
  if (data === undefined) return TYPE_CODE[packet.type];
  if (typeof data === "string") return TYPE_CODE[packet.type] + data;
  return supportsBinary ? data : `b${data.toString("base64")}`;
}

/** Encodes one packet as it appears inside a long-polling payload (binary as `b` + base64). */
export function encodePayloadPacket(packet: EnginePacket): string {
  const data = packet.data;
  if (data === undefined) return TYPE_CODE[packet.type];
  if (typeof data === "string") return TYPE_CODE[packet.type] + data;
  return `b${data.toString("base64")}`;
}

/** Encodes packets for a long-polling response: packets joined by the record separator. */
export function encodePayload(packets: readonly EnginePacket[]): string {
  if (packets.length === 1) return encodePayloadPacket(packets[0] as EnginePacket);
  let out = "";
  for (let i = 0; i < packets.length; i++) {
    if (i > 0) out += RECORD_SEPARATOR;
    out += encodePayloadPacket(packets[i] as EnginePacket);
  }
  return out;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decodes one text packet (a WebSocket text frame, or one record of a polling payload). */
export function decodeTextPacket(text: string): EnginePacket | undefined {
  if (text.length === 0) return undefined;
  const first = text.charCodeAt(0);
  if (first === 98 /* "b" */) {
    const b64 = text.slice(1);
    if (b64.length % 4 !== 0 || !BASE64.test(b64)) return undefined;
    return { type: "message", data: Buffer.from(b64, "base64") };
  }
  const type = typeOfCode(first);
  if (type === undefined) return undefined;
  return text.length > 1 ? { type, data: text.slice(1) } : { type };
}

/** Decodes one WebSocket frame: a binary frame is a binary message. */
export function decodeFrame(data: string | Buffer, isBinary: boolean): EnginePacket | undefined {
  if (isBinary) return { type: "message", data: typeof data === "string" ? Buffer.from(data) : data };
  return decodeTextPacket(typeof data === "string" ? data : data.toString("utf8"));
}

/**
 * Decodes a long-polling payload. Returns `undefined` if any packet in it is invalid: the
 * payload is refused whole, so a client never sees half of a batch applied.
 */
export function decodePayload(payload: string): EnginePacket[] | undefined {
  const records = payload.split(RECORD_SEPARATOR);
  const packets: EnginePacket[] = [];
  for (const record of records) {
    const packet = decodeTextPacket(record);
    if (packet === undefined) return undefined;
    packets.push(packet);
  }
  return packets;
}

/** Bytes a packet takes on the wire once encoded (used for buffer accounting). */
export function packetByteLength(packet: EnginePacket): number {
  const data = packet.data;
  if (data === undefined) return 1;
  if (typeof data === "string") return 1 + Buffer.byteLength(data);
  return data.length;
}
