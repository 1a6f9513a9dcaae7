import {
  DEFAULT_MAX_ARGUMENTS,
  DEFAULT_MAX_ATTACHMENTS,
  DEFAULT_MAX_DEPTH,
  encodeSocketPacket,
  type SocketPacket,
  SocketPacketDecoder,
} from "../protocol/socket-packet.js";
import type { EncodedMessagePart, Parser, ParserDecoder, ParserEncoder } from "./parser.js";

/** Limits Tutti's decoder enforces while it parses (the server's options of the same names). */
export interface ParserLimits {
  readonly maxAttachments: number;
  readonly maxArguments: number;
  readonly maxDepth: number;
}

/**
 * Tutti's own codec (socket.io-parser's wire format, the default) as a `Parser`. Its decoder
 * checks the packets and the limits as it parses, so the server trusts what it emits; the
 * decoder throws an `Error` whose message says what was wrong ("too many attachments", ...).
 */
export function tuttiParser(limits: Partial<ParserLimits> = {}): Parser {
  const maxAttachments = limits.maxAttachments ?? DEFAULT_MAX_ATTACHMENTS;
  const maxArguments = limits.maxArguments ?? DEFAULT_MAX_ARGUMENTS;
  const maxDepth = limits.maxDepth ?? DEFAULT_MAX_DEPTH;

  class TuttiEncoder implements ParserEncoder {
    encode(packet: SocketPacket): readonly EncodedMessagePart[] {
      const encoded = encodeSocketPacket(packet);
      return encoded.attachments.length === 0 ? [encoded.text] : [encoded.text, ...encoded.attachments];
    }
  }

  // A subclass, not a wrapper: one object per connection (idle connections are measured)
  class TuttiDecoder extends SocketPacketDecoder implements ParserDecoder {
    #listener: ((packet: SocketPacket) => void) | undefined;

    constructor() {
      super(maxAttachments, maxArguments, maxDepth);
    }

    override add(message: string | Buffer): undefined {
      const result = super.add(message);
      if (result === undefined) return;
      if (result.error !== undefined) throw new Error(result.error);
      this.#listener?.(result.packet);
    }

    destroy(): void {
      this.reset();
    }

    on(event: "decoded", listener: (packet: SocketPacket) => void): this {
      // one listener is all a connection has: a field, not an emitter
      if (event === "decoded") this.#listener = listener;
      return this;
    }
  }

  return { Encoder: TuttiEncoder, Decoder: TuttiDecoder };
}
