import type { EncodedMessage } from "../adapter/adapter.js";
import { PreparedMessage } from "../engine/prepared-message.js";
import { type SocketPacket, SocketPacketType } from "../protocol/socket-packet.js";
import { encodePacket, type PacketEncoding } from "./encode-packet.js";

/**
 * An EVENT packet encoded once, with the server's encoder, for every recipient of a broadcast.
 * Encoding waits for the first recipient, so a broadcast to an empty room costs nothing; after
 * that, every recipient shares the same engine messages and their wire frames.
 *
 * The packet itself stays available (`packet`): a node that forwards the broadcast to other
 * nodes, or a store that keeps it for a later replay, takes the packet, not the encoded
 * messages, and the receiving side encodes it with its own server's encoder.
 */
export class PreparedPacket implements EncodedMessage {
  readonly packet: SocketPacket;
  readonly #server: PacketEncoding;
  #parts: readonly PreparedMessage[] | undefined;

  constructor(server: PacketEncoding, nsp: string, data: readonly unknown[], id: number | undefined) {
    this.#server = server;
    this.packet =
      id === undefined ? { type: SocketPacketType.EVENT, nsp, data } : { type: SocketPacketType.EVENT, nsp, id, data };
  }

  get data(): readonly unknown[] {
    return this.packet.data as readonly unknown[];
  }

  get id(): number | undefined {
    return this.packet.id;
  }

  /** The engine messages, in order (Tutti's codec: the text message, then one per attachment). */
  get parts(): readonly PreparedMessage[] {
    if (this.#parts === undefined) {
      const parts: PreparedMessage[] = [];
      for (const part of encodePacket(this.#server, this.packet)) parts.push(new PreparedMessage(part));
      this.#parts = parts;
    }
    return this.#parts;
  }
}
