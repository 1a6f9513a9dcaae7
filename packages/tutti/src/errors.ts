/**
 * One error class and one table of codes. docs/errors.md documents every entry; a test fails
 * when the two disagree. Codes are stable and never reused: retire a code, never recycle it.
 */

export interface ErrorSpec {
  /** Human-readable message sent to clients where the protocol carries one. */
  readonly message: string;
  /** HTTP status when the error answers an HTTP request. */
  readonly status?: number;
  /** The Engine.IO protocol's numeric error code (0-5), where the protocol fixes one. */
  readonly engineCode?: number;
}

export const ErrorCodes = {
  TRANSPORT_UNKNOWN: { message: "Transport unknown", status: 400, engineCode: 0 },
  SESSION_ID_UNKNOWN: { message: "Session ID unknown", status: 400, engineCode: 1 },
  BAD_HANDSHAKE_METHOD: { message: "Bad handshake method", status: 400, engineCode: 2 },
  BAD_REQUEST: { message: "Bad request", status: 400, engineCode: 3 },
  FORBIDDEN: { message: "Forbidden", status: 403, engineCode: 4 },
  UNSUPPORTED_PROTOCOL_VERSION: { message: "Unsupported protocol version", status: 400, engineCode: 5 },
  PAYLOAD_TOO_LARGE: { message: "Payload too large", status: 413 },
  INVALID_OPTION: { message: "Invalid option" },
  TOO_MANY_CONNECTIONS: { message: "Too many connections", status: 429 },
  HANDSHAKE_RATE_LIMITED: { message: "Too many handshakes", status: 429 },
  ORIGIN_NOT_ALLOWED: { message: "Origin not allowed", status: 403 },
  ROOM_LIMIT_EXCEEDED: { message: "Too many rooms for this socket" },
  ACK_LIMIT_EXCEEDED: { message: "Too many pending acks for this socket" },
  JOIN_NOT_ALLOWED: { message: "The socket may not join this room" },
  BROKER_UNAVAILABLE: { message: "The cluster's broker is unavailable" },
  ADAPTER_NOT_SUPPORTED: { message: "The adapter cannot do this on Tutti" },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ErrorCodes;

/** Why an engine session closed. Documented in docs/errors.md. */
export const CloseReasons = {
  TRANSPORT_CLOSE: "transport close",
  TRANSPORT_ERROR: "transport error",
  PING_TIMEOUT: "ping timeout",
  PARSE_ERROR: "parse error",
  FORCED_CLOSE: "forced close",
  SERVER_SHUTDOWN: "server shutdown",
  SLOW_CONSUMER: "slow consumer",
} as const;

export type CloseReason = (typeof CloseReasons)[keyof typeof CloseReasons];

/**
 * Why a Socket.IO socket disconnected: the `disconnecting` and `disconnect` events give one of
 * these (socket.io's reasons, plus "slow consumer"). Documented in docs/errors.md.
 */
export const DisconnectReasons = {
  TRANSPORT_CLOSE: "transport close",
  TRANSPORT_ERROR: "transport error",
  PING_TIMEOUT: "ping timeout",
  PARSE_ERROR: "parse error",
  FORCED_CLOSE: "forced close",
  SLOW_CONSUMER: "slow consumer",
  SERVER_SHUTTING_DOWN: "server shutting down",
  FORCED_SERVER_CLOSE: "forced server close",
  CLIENT_NAMESPACE_DISCONNECT: "client namespace disconnect",
  SERVER_NAMESPACE_DISCONNECT: "server namespace disconnect",
  TOKEN_EXPIRED: "token expired",
  RATE_LIMITED: "rate limited",
} as const;

export type DisconnectReason = (typeof DisconnectReasons)[keyof typeof DisconnectReasons];

/** Messages of the CONNECT_ERROR packets the server itself sends. Documented in docs/errors.md. */
export const ConnectErrorMessages = {
  INVALID_NAMESPACE: "Invalid namespace",
  NAMESPACE_LIMIT: "Namespace limit reached",
} as const;

export type ConnectErrorMessage = (typeof ConnectErrorMessages)[keyof typeof ConnectErrorMessages];

/**
 * Codes the guards (`tutti` guard middleware) send to clients: in a CONNECT_ERROR's
 * `data.code`, in an ack's `{code}` when an event is refused, and in the `tutti:disconnect`
 * event sent before a guard disconnects a socket. Documented in docs/errors.md.
 */
export const GuardCodes = {
  AUTH_REQUIRED: "no token was sent",
  AUTH_INVALID:
    "the token is malformed, its signature does not verify, a claim check failed, or the app's token reader threw",
  AUTH_EXPIRED: "the token has expired",
  AUTH_UNAVAILABLE: "the token could not be checked now (the JWKS endpoint failed or timed out); try again later",
  ACCESS_DENIED: "the authorization hook refused the namespace, the room or the event",
  RATE_LIMITED: "a rate limit was exceeded",
  INVALID_PAYLOAD: "the event's arguments do not match its schema",
  UNKNOWN_EVENT: "the event has no schema and the validate guard rejects unknown events",
} as const;

export type GuardCode = keyof typeof GuardCodes;

export class TuttiError extends Error {
  /** An `ErrorCodes` key, or a `GuardCodes` key for a guard's refusal (`GuardError`). */
  readonly code: ErrorCode | GuardCode;
  readonly status: number | undefined;
  readonly engineCode: number | undefined;

  constructor(code: ErrorCode | GuardCode, message?: string, options?: { cause?: unknown }) {
    const spec: ErrorSpec | undefined = code in ErrorCodes ? ErrorCodes[code as ErrorCode] : undefined;
    super(message ?? spec?.message ?? GuardCodes[code as GuardCode], options);
    this.name = "TuttiError";
    this.code = code;
    this.status = spec?.status;
    this.engineCode = spec?.engineCode;
  }
}
