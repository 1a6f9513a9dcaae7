import type { SocketPacket } from "../protocol/socket-packet.js";

/**
 * The codec between Socket.IO packets and Engine.IO messages: socket.io's `parser` option
 * (`{ Encoder, Decoder }`, as socket.io-parser, socket.io-msgpack-parser and
 * socket.io-json-parser export them). Tutti's own codec is one implementation (`tuttiParser`);
 * the client must use the same parser as the server.
 *
 * Guarantees the server gives a parser:
 * - one `Encoder` per server, shared by every connection and every broadcast: `encode` must not
 *   keep state between calls nor change the packet it is given;
 * - a broadcast is encoded once, whatever the number of recipients; every recipient gets the
 *   same messages, in the order `encode` returned them;
 * - one `Decoder` per connection; `add` gets the connection's messages in order, and
 *   `destroy` is called once when the connection closes (what it emits after that is dropped).
 *
 * What the server expects of a custom decoder (Tutti's own is trusted): it emits `"decoded"`
 * with complete packets, and a packet spans at most `maxAttachments + 1` messages. A throw from
 * `add`, a packet of the wrong shape, or one past `maxArguments` or `maxDepth` closes the
 * connection with "parse error"; nothing malformed reaches the app.
 */
export interface Parser {
  readonly Encoder: new () => ParserEncoder;
  readonly Decoder: new () => ParserDecoder;
}

/** One Engine.IO message as an encoder may produce it: text, or binary. */
export type EncodedMessagePart = string | ArrayBuffer | ArrayBufferView;

export interface ParserEncoder {
  /**
   * The messages that carry `packet` (type CONNECT, DISCONNECT, EVENT, ACK or CONNECT_ERROR; an
   * EVENT or ACK may hold binary data at any depth; `id` is absent when there is none): an
   * array of messages, or one message alone.
   */
  encode(packet: SocketPacket): EncodedMessagePart | readonly EncodedMessagePart[];
}

export interface ParserDecoder {
  /** Takes one Engine.IO message; may throw on bad input (the connection closes with "parse error"). */
  add(message: string | Buffer): void;
  /** Frees what a half-received packet holds; called once, when the connection closes. */
  destroy(): void;
  /**
   * Registers the one listener for complete packets (`{ type, nsp, id?, data? }`). socket.io's
   * BINARY_EVENT and BINARY_ACK types are taken as EVENT and ACK.
   */
  on(event: "decoded", listener: (packet: SocketPacket) => void): unknown;
}
