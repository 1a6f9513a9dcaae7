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
export {
  type Broker,
  type BrokerEvents,
  CLUSTER_PROTOCOL_VERSION,
  type FeedEntry,
  type NamespaceFeed,
  type NamespaceLink,
  type NodeInfo,
  type NodeMessage,
  type Position,
  type StoredMessage,
} from "./broker.js";
export {
  ClusterAdapter,
  type ClusterAdapterConstructor,
  type ClusterAdapterOptions,
  createClusterAdapter,
  type RemoteSocketDetails,
} from "./cluster-adapter.js";
export { MemoryBroker, MemoryHub, type MemoryNodeOptions } from "./memory-broker.js";
