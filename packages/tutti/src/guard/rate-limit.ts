import { DisconnectReasons } from "../errors.js";
import type { Event } from "../server/index.js";
import { type AnySocket, asSocket, clockOf, type Guard, guardDisconnect, refuseEvent, setStrike } from "./guard.js";
import { GuardMessages } from "./guard-error.js";
import { type BucketOptions, checkBucketOptions, TokenBucket } from "./token-bucket.js";

export interface RateLimitOptions {
  /** One bucket per socket that every event takes a token from; `false` for none. Default `{burst: 50, perSecond: 20}`. */
  perSocket?: BucketOptions | false;
  /** A bucket per socket for each named event, on top of `perSocket`. Default none. */
  perEvent?: Readonly<Record<string, BucketOptions>>;
  /**
   * Refused events that disconnect the socket ("rate limited") and close its connection when
   * they come faster than `disconnectAfter` per `disconnectWindowMs`; `false` to never
   * disconnect. Default 100.
   */
  disconnectAfter?: number | false;
  /**
   * See `disconnectAfter`. Default 10000: so by default the 100th refusal of a flood disconnects,
   * and so do refusals sustained past 10 a second.
   */
  disconnectWindowMs?: number;
  /** A monotonic clock in milliseconds. Default the server's `clock` option (`performance.now` unless set). */
  now?: () => number;
}

export const RATE_LIMIT_DEFAULTS = {
  perSocket: { burst: 50, perSecond: 20 },
  disconnectAfter: 100,
  disconnectWindowMs: 10_000,
} as const;

/**
 * Limits the events each socket sends with token buckets. A refused event never reaches its
 * handler; its ack, if any, gets `{code: "RATE_LIMITED", message, retryAfterMs}`. Refusals are
 * counted in a leaky bucket that holds `disconnectAfter` and drains at `disconnectAfter` per
 * `disconnectWindowMs`: the refusal that fills it (the `disconnectAfter`th of a flood)
 * disconnects the socket with reason "rate limited", after a `tutti:disconnect` event, and
 * closes its whole connection (with the client's other namespaces), so that coming back takes a
 * new handshake, subject to the engine's `handshakeRate`. A `tutti:refresh` refused past the
 * `jwt` guard's `refreshRate` counts as a refusal too. A client that backs off when told is never
 * disconnected; one that keeps flooding is. Per-socket state is two or three numbers per bucket,
 * no timers, and lives on the socket's own middleware.
 */
export function rateLimit(options: RateLimitOptions = {}): Guard {
  const perSocket = options.perSocket === undefined ? RATE_LIMIT_DEFAULTS.perSocket : options.perSocket;
  if (perSocket !== false) checkBucketOptions("rateLimit.perSocket", perSocket);
  const perEvent = new Map<string, BucketOptions>();
  for (const [name, bucket] of Object.entries(options.perEvent ?? {})) {
    checkBucketOptions(`rateLimit.perEvent[${JSON.stringify(name)}]`, bucket);
    perEvent.set(name, bucket);
  }
  const disconnectAfter =
    options.disconnectAfter === undefined ? RATE_LIMIT_DEFAULTS.disconnectAfter : options.disconnectAfter;
  const windowMs = options.disconnectWindowMs ?? RATE_LIMIT_DEFAULTS.disconnectWindowMs;
  const strikes: BucketOptions | undefined =
    disconnectAfter === false ? undefined : { burst: disconnectAfter, perSecond: (disconnectAfter * 1000) / windowMs };
  if (strikes !== undefined) checkBucketOptions("rateLimit.disconnectAfter/disconnectWindowMs", strikes);

  return (typed, next) => {
    const socket = asSocket(typed);
    const now = options.now ?? serverNow(socket);
    const socketBucket = perSocket === false ? undefined : new TokenBucket(perSocket, now);
    // created on first use: a socket that never sends a listed event, or is never refused, has none
    let eventBuckets: Map<string, TokenBucket> | undefined;
    let strikeBucket: TokenBucket | undefined;
    // a refusal: the one that fills the strike bucket disconnects, and closes the connection
    const strike = (): void => {
      if (strikes === undefined) return;
      strikeBucket ??= new TokenBucket(strikes, now);
      strikeBucket.tryTake();
      if (strikeBucket.tokens < 1) {
        guardDisconnect(
          socket,
          { code: "RATE_LIMITED", message: GuardMessages.RATE_LIMITED },
          DisconnectReasons.RATE_LIMITED,
          { closeConnection: true },
        );
      }
    };
    setStrike(socket, strike);

    socket.use((event: Event, nextEvent) => {
      let eventBucket: TokenBucket | undefined;
      if (perEvent.size > 0) {
        const name = String(event[0]);
        eventBucket = eventBuckets?.get(name);
        const spec = eventBucket === undefined ? perEvent.get(name) : undefined;
        if (spec !== undefined) {
          eventBucket = new TokenBucket(spec, now);
          eventBuckets ??= new Map();
          eventBuckets.set(name, eventBucket);
        }
      }
      const waitMs = Math.max(socketBucket?.msUntil() ?? 0, eventBucket?.msUntil() ?? 0);
      if (waitMs === 0) {
        socketBucket?.tryTake();
        eventBucket?.tryTake();
        nextEvent();
        return;
      }
      refuseEvent(socket, event, nextEvent, {
        code: "RATE_LIMITED",
        message: GuardMessages.RATE_LIMITED,
        retryAfterMs: waitMs,
      });
      strike();
    });
    next();
  };
}

function serverNow(socket: AnySocket): () => number {
  const clock = clockOf(socket);
  return () => clock.now();
}
