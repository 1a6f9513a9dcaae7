import type { IncomingMessage } from "node:http";
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
  /** Milliseconds on a monotonic clock; injected so tests can move time. */
  readonly now: () => number;
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

  /** Checks a handshake from `address`, taking one token; returns the refusal, if any. */
  admit(address: string): Refusal | undefined {
    const open = this.#open.get(address) ?? 0;
    if (open >= this.#limits.maxConnectionsPerIp) {
      return { code: "TOO_MANY_CONNECTIONS", context: { address, open } };
    }
    const rate = this.#limits.handshakeRate;
    if (rate === false) return undefined;
    const now = this.#limits.now();
    let bucket = this.#buckets.get(address);
    if (bucket === undefined) {
      if (this.#buckets.size >= MAX_BUCKETS) this.#makeRoom(now, rate);
      bucket = { tokens: rate.burst, updated: now };
      this.#buckets.set(address, bucket);
    } else {
      bucket.tokens = Math.min(rate.burst, bucket.tokens + ((now - bucket.updated) / 1000) * rate.perSecond);
      bucket.updated = now;
    }
    if (bucket.tokens < 1) return { code: "HANDSHAKE_RATE_LIMITED", context: { address } };
    bucket.tokens -= 1;
    return undefined;
  }

  /** Counts a session opened for `address`. */
  opened(address: string): void {
    this.#open.set(address, (this.#open.get(address) ?? 0) + 1);
  }

  /** Uncounts a session of `address`; call once per `opened`. */
  closed(address: string): void {
    const left = (this.#open.get(address) ?? 1) - 1;
    if (left <= 0) this.#open.delete(address);
    else this.#open.set(address, left);
  }

  /** Open sessions counted for `address`. */
  openFor(address: string): number {
    return this.#open.get(address) ?? 0;
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
