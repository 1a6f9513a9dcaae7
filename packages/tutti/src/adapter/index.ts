export {
  Adapter,
  type AdapterConstructor,
  type AdapterEvents,
  type AdapterNamespace,
  type AdapterSocket,
  type BroadcastFlags,
  type BroadcastOptions,
  type BroadcastPacket,
  type EncodedMessage,
  type Room,
  type SocketId,
} from "./adapter.js";
