import type { EncodedMessage } from "../adapter/adapter.js";
import { PreparedMessage } from "../engine/prepared-message.js";
import { encodeSocketPacket, SocketPacketType } from "../protocol/socket-packet.js";

/**
 * An EVENT packet encoded once for every recipient of a broadcast. Encoding waits for the first
 * recipient, so a broadcast to an empty room costs nothing; after that, every recipient shares
 * the same engine messages and their wire frames.
 */
export class PreparedPacket implements EncodedMessage {
  readonly data: readonly unknown[];
  readonly id: number | undefined;
  readonly #nsp: string;
  #parts: readonly PreparedMessage[] | undefined;

  constructor(nsp: string, data: readonly unknown[], id: number | undefined) {
    this.#nsp = nsp;
    this.data = data;
    this.id = id;
  }

  /** The text message, then one binary message per attachment. */
  get parts(): readonly PreparedMessage[] {
    if (this.#parts === undefined) {
      const encoded = encodeSocketPacket({
        type: SocketPacketType.EVENT,
        nsp: this.#nsp,
        id: this.id,
        data: this.data,
      });
      const parts = [new PreparedMessage(encoded.text)];
      for (const attachment of encoded.attachments) parts.push(new PreparedMessage(attachment));
      this.#parts = parts;
    }
    return this.#parts;
  }
}
