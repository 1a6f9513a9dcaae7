export { BroadcastOperator, type BroadcastTimeoutError, type RemoteSocket } from "./broadcast-operator.js";
export { Client } from "./client.js";
export {
  type ExtendedError,
  Namespace,
  type NamespaceMiddleware,
  type NamespaceReservedEvents,
} from "./namespace.js";
export { type NamespaceMatcher, ParentNamespace } from "./parent-namespace.js";
export type { EncodedMessagePart, Parser, ParserDecoder, ParserEncoder } from "./parser.js";
export { type ResolvedServerOptions, Server, type ServerOptions } from "./server.js";
export { type Event, type Handshake, type JoinPolicy, Socket, type SocketMiddleware } from "./socket.js";
export type {
  AllButLast,
  DecorateAcknowledgements,
  DecorateAcknowledgementsWithMultipleResponses,
  DefaultEventsMap,
  EventNames,
  EventNamesWithAck,
  EventParams,
  EventsMap,
  FirstNonErrorArg,
  Last,
  SocketReservedEvents,
} from "./typed-events.js";
