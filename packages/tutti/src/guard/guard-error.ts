import { type GuardCode, TuttiError } from "../errors.js";

/** The message each guard code is sent with (a refusal may give a more precise one). */
export const GuardMessages = {
  AUTH_REQUIRED: "Authentication required",
  AUTH_INVALID: "Invalid token",
  AUTH_EXPIRED: "Token expired",
  AUTH_UNAVAILABLE: "Token verification unavailable",
  ACCESS_DENIED: "Access denied",
  RATE_LIMITED: "Rate limit exceeded",
  INVALID_PAYLOAD: "Invalid payload",
  UNKNOWN_EVENT: "Unknown event",
} as const satisfies Record<GuardCode, string>;

/** What a client gets for a refused event (in its ack) or before a guard disconnects it. */
export interface GuardRefusal {
  code: GuardCode;
  message: string;
  /** RATE_LIMITED: milliseconds until the refused event would have been accepted. */
  retryAfterMs?: number;
  /** INVALID_PAYLOAD: what did not match the schema. */
  issues?: PayloadIssue[];
}

/** One JSON-safe schema issue: `path` starts with the argument's index. */
export interface PayloadIssue {
  message: string;
  path: (string | number)[];
}

/**
 * A guard's refusal as an Error. A namespace middleware passes it to `next`, so its `message`
 * and `data` (`{code}`) reach the client's `connect_error`; a socket middleware passes it to
 * `next`, so the socket's "error" listeners see every refused event.
 */
export class GuardError extends TuttiError {
  declare readonly code: GuardCode;
  /** Sent in the CONNECT_ERROR packet: the client's `connect_error` gets it as `err.data`. */
  readonly data: { code: GuardCode };
  /** The ack payload and `tutti:disconnect` payload of this refusal. */
  readonly refusal: GuardRefusal;

  constructor(refusal: GuardRefusal, options?: { cause?: unknown }) {
    super(refusal.code, refusal.message, options);
    this.name = "GuardError";
    this.data = { code: refusal.code };
    this.refusal = refusal;
  }

  static of(code: GuardCode, message?: string, options?: { cause?: unknown }): GuardError {
    return new GuardError({ code, message: message ?? GuardMessages[code] }, options);
  }
}
