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
} as const;

export type DisconnectReason = (typeof DisconnectReasons)[keyof typeof DisconnectReasons];

/** Messages of the CONNECT_ERROR packets the server itself sends. Documented in docs/errors.md. */
export const ConnectErrorMessages = {
  INVALID_NAMESPACE: "Invalid namespace",
} as const;

export class TuttiError extends Error {
  readonly code: ErrorCode;
  readonly status: number | undefined;
  readonly engineCode: number | undefined;

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown }) {
    const spec: ErrorSpec = ErrorCodes[code];
    super(message ?? spec.message, options);
    this.name = "TuttiError";
    this.code = code;
    this.status = spec.status;
    this.engineCode = spec.engineCode;
  }
}
