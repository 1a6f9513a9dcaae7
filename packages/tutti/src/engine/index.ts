export type { EngineCluster } from "./cluster.js";
export type { CorsOptions, CorsOrigin } from "./cors.js";
export {
  type ConnectionError,
  type EngineMiddleware,
  type EngineRequest,
  EngineServer,
  type EngineServerEvents,
} from "./engine-server.js";
export {
  EngineSession,
  type EngineSessionEvents,
  type SendData,
  type SendOptions,
  type SessionState,
} from "./engine-session.js";
export type { AllowRequest, CookieOptions, EngineOptions, RelayOptions, TransportName } from "./options.js";
export { PreparedMessage } from "./prepared-message.js";
export type { RelayStats } from "./relay.js";
export type { Transport } from "./transport.js";
