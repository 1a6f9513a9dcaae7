import { TuttiError } from "../errors.js";
import { isBinary, toBuffer } from "../protocol/binary.js";
import type { SocketPacket } from "../protocol/socket-packet.js";
import type { ParserEncoder } from "./parser.js";

/** What encoding needs of the server: its one encoder, and whether that is an app's parser's. */
export interface PacketEncoding {
  readonly encoder: ParserEncoder;
  readonly options: { readonly customParser: boolean };
}

/**
 * The Engine.IO messages that carry `packet`, from the server's encoder: text as strings, binary
 * as Buffers (over the encoder's memory, no copy). An encoder may return one message or an
 * array, as socket.io accepts; anything else throws a `TuttiError` INVALID_OPTION (a broken
 * `parser`), to the code that emitted. A custom encoder gets the packet without undefined keys
 * (Tutti's own skips them, so it is spared the copy).
 */
export function encodePacket(server: PacketEncoding, packet: SocketPacket): ReadonlyArray<string | Buffer> {
  // Tutti's own encoder returns strings and Buffers only: nothing to check or convert
  if (!server.options.customParser) return server.encoder.encode(packet) as ReadonlyArray<string | Buffer>;
  const out = server.encoder.encode(withoutUndefined(packet));
  const parts = Array.isArray(out) ? (out as readonly unknown[]) : [out];
  let converted: Array<string | Buffer> | undefined;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (typeof part === "string" || Buffer.isBuffer(part)) {
      converted?.push(part);
      continue;
    }
    if (!isBinary(part)) {
      throw new TuttiError("INVALID_OPTION", `the parser's encode() returned a ${typeof part}, not a string or binary`);
    }
    converted ??= parts.slice(0, i) as Array<string | Buffer>;
    converted.push(toBuffer(part));
  }
  if (parts.length === 0) throw new TuttiError("INVALID_OPTION", "the parser's encode() returned no message");
  return converted ?? (parts as ReadonlyArray<string | Buffer>);
}

/**
 * The packet without keys whose value is undefined: socket.io never hands an encoder such keys,
 * and msgpack would encode them as nil, which socket.io-msgpack-parser's decoder refuses.
 */
function withoutUndefined(packet: SocketPacket): SocketPacket {
  const idOk = packet.id !== undefined || !("id" in packet);
  const dataOk = packet.data !== undefined || !("data" in packet);
  if (idOk && dataOk) return packet;
  const out: { type: SocketPacket["type"]; nsp: string; id?: number; data?: unknown } = {
    type: packet.type,
    nsp: packet.nsp,
  };
  if (packet.id !== undefined) out.id = packet.id;
  if (packet.data !== undefined) out.data = packet.data;
  return out;
}
