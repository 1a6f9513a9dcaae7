/**
 * Socket.IO v5 packet codec (docs/socket.io-protocol/v5-current.md in socketio/socket.io).
 *
 * Pure functions and one small stateful decoder, no I/O. Nothing here throws on bad input from
 * a client: decoding returns `{ error }`, and the server closes the connection with
 * "parse error".
 */

import { deconstructBinary, hasBinary, reconstructBinary } from "./binary.js";

export const SocketPacketType = {
  CONNECT: 0,
  DISCONNECT: 1,
  EVENT: 2,
  ACK: 3,
  CONNECT_ERROR: 4,
  BINARY_EVENT: 5,
  BINARY_ACK: 6,
} as const;

export type SocketPacketType = (typeof SocketPacketType)[keyof typeof SocketPacketType];

export interface SocketPacket {
  readonly type: SocketPacketType;
  /** The namespace, "/" when the wire omits it. */
  readonly nsp: string;
  /** Ack id, for an EVENT that wants an answer and for the ACK that answers it. */
  readonly id?: number | undefined;
  readonly data?: unknown;
}

/** A packet ready for the engine: one text message, then one binary message per attachment. */
export interface EncodedSocketPacket {
  readonly text: string;
  readonly attachments: readonly Buffer[];
}

/**
 * Event names a client may not send and the server may not emit: they are the names of the
 * Socket's own lifecycle events (the same list as socket.io-parser).
 */
export const RESERVED_EVENTS: ReadonlySet<string> = new Set([
  "connect",
  "connect_error",
  "disconnect",
  "disconnecting",
  "newListener",
  "removeListener",
]);

/** socket.io-parser's default; a client sending more is refused. */
export const DEFAULT_MAX_ATTACHMENTS = 10;

/**
 * Encodes a packet. EVENT and ACK become BINARY_EVENT and BINARY_ACK when their data holds
 * binary (Buffer, ArrayBuffer, typed arrays, at any depth): each binary value is replaced by a
 * `{_placeholder: true, num}` object and sent as an attachment.
 */
export function encodeSocketPacket(packet: SocketPacket): EncodedSocketPacket {
  let type: number = packet.type;
  let data = packet.data;
  let attachments: Buffer[] = [];
  if ((type === SocketPacketType.EVENT || type === SocketPacketType.ACK) && hasBinary(data)) {
    const out = deconstructBinary(data);
    data = out.data;
    attachments = out.attachments;
    type = type === SocketPacketType.EVENT ? SocketPacketType.BINARY_EVENT : SocketPacketType.BINARY_ACK;
  }
  let text = String(type);
  if (attachments.length > 0) text += `${attachments.length}-`;
  if (packet.nsp !== "/") text += `${packet.nsp},`;
  if (packet.id !== undefined) text += packet.id;
  if (data !== undefined) text += JSON.stringify(data);
  return { text, attachments };
}

export type DecodeResult = { packet: SocketPacket; error?: undefined } | { packet?: undefined; error: string };

/** A decoded BINARY_EVENT/BINARY_ACK header still waiting for its attachments. */
interface PendingBinary {
  readonly type: SocketPacketType;
  readonly nsp: string;
  readonly id: number | undefined;
  readonly data: unknown;
  readonly expected: number;
  readonly buffers: Buffer[];
}

function isPlainObject(value: unknown): boolean {
  return Object.prototype.toString.call(value) === "[object Object]";
}

/** Whether `payload` is a valid data for a packet of `type` (a reserved event name is not). */
export function isPayloadValid(type: SocketPacketType, payload: unknown): boolean {
  switch (type) {
    case SocketPacketType.CONNECT:
      return isPlainObject(payload);
    case SocketPacketType.DISCONNECT:
      return false; // a DISCONNECT carries no payload at all
    case SocketPacketType.CONNECT_ERROR:
      return typeof payload === "string" || isPlainObject(payload);
    case SocketPacketType.EVENT:
    case SocketPacketType.BINARY_EVENT: {
      if (!Array.isArray(payload) || payload.length === 0) return false;
      const name: unknown = payload[0];
      return typeof name === "number" || (typeof name === "string" && !RESERVED_EVENTS.has(name));
    }
    default:
      return Array.isArray(payload);
  }
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** Ack ids are unsigned 32-bit-ish integers in practice; anything longer is refused. */
const MAX_ID_DIGITS = 15;

/**
 * Most arguments an EVENT or ACK may carry. Handlers get them spread into a call, and V8
 * throws a RangeError past about 60,000: the limit keeps a client from crashing the server.
 */
export const DEFAULT_MAX_ARGUMENTS = 1000;

/**
 * Deepest nesting of arrays and objects a payload may have. Echoing or broadcasting a payload
 * walks it (binary detection, JSON.stringify), which overflows the stack a few thousand levels
 * down: the limit keeps a client from crashing the server through the app's own handler.
 */
export const DEFAULT_MAX_DEPTH = 512;

/** Whether the JSON in `text` from `start` nests arrays and objects deeper than `maxDepth`. */
function nestsDeeperThan(text: string, start: number, maxDepth: number): boolean {
  // every level takes an opening and a closing character: a short text cannot be too deep
  if (text.length - start <= 2 * maxDepth) return false;
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++depth > maxDepth) return true;
    } else if (c === 93 /* ] */ || c === 125 /* } */) depth--;
  }
  return false;
}

/**
 * Decodes the text part of one packet. For BINARY_EVENT/BINARY_ACK the result still has
 * placeholders in its data; `SocketPacketDecoder` fills them in.
 */
export function decodeSocketPacketText(
  text: string,
  maxAttachments = DEFAULT_MAX_ATTACHMENTS,
  maxArguments = DEFAULT_MAX_ARGUMENTS,
  maxDepth = DEFAULT_MAX_DEPTH,
): { error: string } | { header: PendingBinary | SocketPacket } {
  const typeCode = text.charCodeAt(0) - 48;
  if (!(typeCode >= 0 && typeCode <= 6) || Number.isNaN(typeCode))
    return { error: `unknown packet type ${text.charAt(0)}` };
  const type = typeCode as SocketPacketType;
  let i = 1;
  let attachments = 0;
  const binary = type === SocketPacketType.BINARY_EVENT || type === SocketPacketType.BINARY_ACK;
  if (binary) {
    const dash = text.indexOf("-", i);
    if (dash <= i || dash - i > 6) return { error: "Illegal attachments" };
    for (let j = i; j < dash; j++) if (!isDigit(text.charCodeAt(j))) return { error: "Illegal attachments" };
    attachments = Number(text.slice(i, dash));
    if (attachments < 1) return { error: "Illegal attachments" };
    if (attachments > maxAttachments) return { error: "too many attachments" };
    i = dash + 1;
  }
  let nsp = "/";
  if (text.charCodeAt(i) === 47 /* "/" */) {
    const comma = text.indexOf(",", i);
    const end = comma === -1 ? text.length : comma;
    nsp = text.slice(i, end);
    i = comma === -1 ? end : end + 1;
  }
  let id: number | undefined;
  const idStart = i;
  while (i < text.length && isDigit(text.charCodeAt(i))) i++;
  if (i > idStart) {
    if (i - idStart > MAX_ID_DIGITS) return { error: "invalid ack id" };
    id = Number(text.slice(idStart, i));
  }
  let data: unknown;
  if (i < text.length) {
    // An event's or ack's arguments sit in one outer array, which is not a level of theirs.
    const outer = type === SocketPacketType.CONNECT ? 0 : 1;
    if (nestsDeeperThan(text, i, maxDepth + outer)) return { error: "payload nested too deep" };
    try {
      data = JSON.parse(text.slice(i));
    } catch {
      return { error: "invalid payload" };
    }
    if (!isPayloadValid(type, data)) return { error: "invalid payload" };
    // an event's array also holds its name
    const named = type === SocketPacketType.EVENT || type === SocketPacketType.BINARY_EVENT ? 1 : 0;
    if (Array.isArray(data) && data.length > maxArguments + named) return { error: "too many arguments" };
  } else if (type === SocketPacketType.EVENT || type === SocketPacketType.BINARY_EVENT) {
    return { error: "invalid payload" };
  } else if (type === SocketPacketType.ACK || type === SocketPacketType.BINARY_ACK) {
    data = [];
  }
  if ((type === SocketPacketType.ACK || type === SocketPacketType.BINARY_ACK) && id === undefined) {
    return { error: "ack without id" };
  }
  if (binary) return { header: { type, nsp, id, data, expected: attachments, buffers: [] } };
  return { header: id === undefined ? { type, nsp, data } : { type, nsp, id, data } };
}

/**
 * Reassembles packets from engine messages: a text message is a packet, or the header of a
 * binary packet whose attachments follow as binary messages. One decoder per connection.
 */
export class SocketPacketDecoder {
  readonly #maxAttachments: number;
  readonly #maxArguments: number;
  readonly #maxDepth: number;
  #pending: PendingBinary | undefined;

  constructor(
    maxAttachments = DEFAULT_MAX_ATTACHMENTS,
    maxArguments = DEFAULT_MAX_ARGUMENTS,
    maxDepth = DEFAULT_MAX_DEPTH,
  ) {
    this.#maxAttachments = maxAttachments;
    this.#maxArguments = maxArguments;
    this.#maxDepth = maxDepth;
  }

  /** Returns a complete packet, `{ error }`, or `undefined` while attachments are still due. */
  add(message: string | Buffer): DecodeResult | undefined {
    if (typeof message === "string") {
      if (this.#pending) return { error: "got plaintext data when reconstructing a packet" };
      const out = decodeSocketPacketText(message, this.#maxAttachments, this.#maxArguments, this.#maxDepth);
      if ("error" in out) return out;
      if ("expected" in out.header) {
        this.#pending = out.header;
        return undefined;
      }
      return { packet: out.header };
    }
    const pending = this.#pending;
    if (!pending) return { error: "got binary data when not reconstructing a packet" };
    pending.buffers.push(message);
    if (pending.buffers.length < pending.expected) return undefined;
    this.#pending = undefined;
    const data = reconstructBinary(pending.data, pending.buffers);
    if (data === undefined) return { error: "illegal attachments" };
    const type = pending.type === SocketPacketType.BINARY_EVENT ? SocketPacketType.EVENT : SocketPacketType.ACK;
    return { packet: { type, nsp: pending.nsp, id: pending.id, data: data.value } };
  }

  /** Drops a half-received binary packet (the connection closed). */
  reset(): void {
    this.#pending = undefined;
  }
}
