export { deconstructBinary, hasBinary, isBinary, reconstructBinary } from "./binary.js";
export {
  type BinaryData,
  decodeFrame,
  decodePayload,
  decodeTextPacket,
  type EnginePacket,
  type EnginePacketType,
  EnginePacketTypes,
  encodeFrame,
  encodePayload,
  encodePayloadPacket,
  type PacketData,
  packetByteLength,
  RECORD_SEPARATOR,
} from "./engine-packet.js";
export {
  DEFAULT_MAX_ARGUMENTS,
  DEFAULT_MAX_ATTACHMENTS,
  DEFAULT_MAX_DEPTH,
  type DecodeResult,
  decodeSocketPacketText,
  type EncodedSocketPacket,
  encodeSocketPacket,
  RESERVED_EVENTS,
  type SocketPacket,
  SocketPacketDecoder,
  SocketPacketType,
} from "./socket-packet.js";
