import type { Server as HttpServer } from "node:http";
import { EngineServer } from "./engine/engine-server.js";
import type { EngineOptions } from "./engine/options.js";

export * from "./adapter/index.js";
export { type Clock, type ClockTimer, systemClock } from "./clock.js";
export * from "./cluster/index.js";
export {
  type AllowRequest,
  type ConnectionError,
  type CookieOptions,
  type CorsOptions,
  type CorsOrigin,
  type EngineMiddleware,
  type EngineOptions,
  EngineServer,
  type EngineServerEvents,
  EngineSession,
  type EngineSessionEvents,
  PreparedMessage,
  type SendData,
  type SendOptions,
  type SessionState,
  type Transport,
  type TransportName,
} from "./engine/index.js";
export {
  type CloseReason,
  CloseReasons,
  type ConnectErrorMessage,
  ConnectErrorMessages,
  type DisconnectReason,
  DisconnectReasons,
  type ErrorCode,
  ErrorCodes,
  type ErrorSpec,
  type GuardCode,
  GuardCodes,
  TuttiError,
} from "./errors.js";
export * from "./guard/index.js";
export * as protocol from "./protocol/index.js";
export * from "./server/index.js";

/** Creates an Engine.IO server attached to `server` (engine.io's `attach`). */
export function attach(server: HttpServer, opts?: EngineOptions): EngineServer {
  return new EngineServer(opts).attach(server);
}

/** Creates an Engine.IO server listening on `port` (engine.io's `listen`). */
export function listen(port: number, opts?: EngineOptions, callback?: () => void): EngineServer {
  return new EngineServer(opts).listen(port, undefined, callback);
}
export type { EngineCluster, RelayOptions, RelayStats } from "./engine/index.js";
