import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { Clock } from "../clock.js";
import type { Refusal } from "./request-check.js";

export interface HandshakeRate {
  /** Handshakes one address may make at once after a quiet period. */
  readonly burst: number;
  /** Handshakes per second one address regains, up to `burst`. */
  readonly perSecond: number;
}

export interface ConnectionLimits {
  readonly maxConnectionsPerIp: number;
  readonly handshakeRate: HandshakeRate | false;
  readonly clientAddress: (req: IncomingMessage) => string;
  /** The server's clock (its monotonic `now`); injected so tests can move time. */
  readonly clock: Clock;
}

interface Bucket {
  tokens: number;
  updated: number;
}

// The bucket map holds at most this many addresses. When full, buckets that have refilled are
// swept (at most once a second); failing that, the oldest bucket goes, which only forgives
// that address its debt. Memory stays bounded whatever the number of addresses.
const MAX_BUCKETS = 10_000;

/**
 * Per-address admission of new sessions: open sessions per address, and a token bucket of
 * handshakes per address. Only handshakes are checked; requests of an open session are not.
 */
export class ConnectionLimiter {
  readonly #limits: ConnectionLimits;
  readonly #open = new Map<string, number>();
  readonly #buckets = new Map<string, Bucket>();
  #lastSweep = Number.NEGATIVE_INFINITY;

  constructor(limits: ConnectionLimits) {
    this.#limits = limits;
  }

  /** The address a handshake is counted under. */
  addressOf(req: IncomingMessage): string {
    return this.#limits.clientAddress(req);
  }

  /**
   * Checks a handshake from `address`, taking one token; returns the refusal, if any. An
   * admitted handshake takes its place under `maxConnectionsPerIp` at once (see `Admission`),
   * so handshakes still in an async `allowRequest` or `generateId` count.
   */
  admit(address: string): Refusal | undefined {
    const open = this.#open.get(address) ?? 0;
    if (open >= this.#limits.maxConnectionsPerIp) {
      return { code: "TOO_MANY_CONNECTIONS", context: { address, open } };
    }
    const rate = this.#limits.handshakeRate;
    if (rate !== false && !this.#takeToken(address, rate)) {
      return { code: "HANDSHAKE_RATE_LIMITED", context: { address } };
    }
    this.take(address);
    return undefined;
  }

  /** Takes a handshake token from the bucket of `address`; false when it has none left. */
  #takeToken(address: string, rate: HandshakeRate): boolean {
    const now = this.#limits.clock.now();
    let bucket = this.#buckets.get(address);
    if (bucket === undefined) {
      if (this.#buckets.size >= MAX_BUCKETS) this.#makeRoom(now, rate);
      bucket = { tokens: rate.burst, updated: now };
      this.#buckets.set(address, bucket);
    } else {
      bucket.tokens = Math.min(rate.burst, bucket.tokens + ((now - bucket.updated) / 1000) * rate.perSecond);
      bucket.updated = now;
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Counts one place under `address` (`admit` does, for what it lets through). */
  take(address: string): void {
    this.#open.set(address, (this.#open.get(address) ?? 0) + 1);
  }

  /** Gives a place of `address` back; once per place taken. */
  release(address: string): void {
    const left = (this.#open.get(address) ?? 1) - 1;
    if (left <= 0) this.#open.delete(address);
    else this.#open.set(address, left);
  }

  #makeRoom(now: number, rate: HandshakeRate): void {
    if (now - this.#lastSweep >= 1000) {
      this.#lastSweep = now;
      this.#sweep(now, rate);
    }
    if (this.#buckets.size < MAX_BUCKETS) return;
    const oldest = this.#buckets.keys().next();
    if (oldest.done !== true) this.#buckets.delete(oldest.value);
  }

  #sweep(now: number, rate: HandshakeRate): void {
    for (const [address, bucket] of this.#buckets) {
      if (bucket.tokens + ((now - bucket.updated) / 1000) * rate.perSecond >= rate.burst) {
        this.#buckets.delete(address);
      }
    }
  }
}

/**
 * A handshake's place under its address's `maxConnectionsPerIp`, taken by `admit`. It passes to
 * the session when one opens (`claim`), and is given back when the handshake's response or
 * socket closes before that, or when it is refused later (`release`).
 */
export class Admission {
  readonly address: string;
  readonly #limiter: ConnectionLimiter;
  readonly #lifetime: ServerResponse | Duplex;
  #held = true;

  constructor(limiter: ConnectionLimiter, address: string, lifetime: ServerResponse | Duplex) {
    this.#limiter = limiter;
    this.address = address;
    this.#lifetime = lifetime;
    if (lifetime.destroyed) this.release();
    else lifetime.once("close", this.release);
  }

  /** Gives the place back, unless a session has it. */
  readonly release = (): void => {
    if (!this.#held) return;
    this.#held = false;
    this.#lifetime.off("close", this.release);
    this.#limiter.release(this.address);
  };

  /** Hands the place to the session that opened (taking a new one if it was given back meanwhile). */
  claim(): string {
    if (this.#held) {
      this.#held = false;
      this.#lifetime.off("close", this.release);
    } else this.#limiter.take(this.address);
    return this.address;
  }
}
