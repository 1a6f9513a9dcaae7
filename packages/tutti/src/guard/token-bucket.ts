import { TuttiError } from "../errors.js";

/** A token bucket: `burst` tokens at most, refilled at `perSecond`; one token per event. */
export interface BucketOptions {
  /** Tokens the bucket holds when full: the most events accepted at once. A positive integer. */
  burst: number;
  /** Tokens added per second: the sustained rate. Positive; fractions allowed (0.1 = one per 10 s). */
  perSecond: number;
}

/** Throws a `TuttiError` INVALID_OPTION unless `options` describe a bucket. */
export function checkBucketOptions(name: string, options: BucketOptions): void {
  const { burst, perSecond } = options;
  if (!Number.isSafeInteger(burst) || burst < 1) {
    throw new TuttiError("INVALID_OPTION", `${name}.burst must be a positive integer, got ${String(burst)}`);
  }
  if (typeof perSecond !== "number" || !Number.isFinite(perSecond) || perSecond <= 0) {
    throw new TuttiError("INVALID_OPTION", `${name}.perSecond must be a positive number, got ${String(perSecond)}`);
  }
}

/**
 * A token bucket with an injected monotonic clock (milliseconds). It starts full and refills
 * lazily when read, so an idle bucket costs no timer. Pure: no I/O, no timers.
 */
export class TokenBucket {
  readonly burst: number;
  readonly perSecond: number;
  readonly #now: () => number;
  #tokens: number;
  #updated: number;

  constructor(options: BucketOptions, now: () => number) {
    checkBucketOptions("bucket", options);
    this.burst = options.burst;
    this.perSecond = options.perSecond;
    this.#now = now;
    this.#tokens = options.burst;
    this.#updated = now();
  }

  /** Tokens available now (fractional while refilling). */
  get tokens(): number {
    this.#refill();
    return this.#tokens;
  }

  /** Takes `count` tokens if there are that many; otherwise takes none. */
  tryTake(count = 1): boolean {
    this.#refill();
    if (this.#tokens < count) return false;
    this.#tokens -= count;
    return true;
  }

  /** Milliseconds until `count` tokens are available: 0 when they are, Infinity when `count` exceeds `burst`. */
  msUntil(count = 1): number {
    if (count > this.burst) return Number.POSITIVE_INFINITY;
    this.#refill();
    const missing = count - this.#tokens;
    return missing <= 0 ? 0 : Math.ceil((missing * 1000) / this.perSecond);
  }

  #refill(): void {
    const now = this.#now();
    const elapsed = now - this.#updated;
    // a clock that goes back (a faked one, or an injected wall clock) adds nothing
    if (elapsed <= 0) return;
    this.#updated = now;
    this.#tokens = Math.min(this.burst, this.#tokens + (elapsed * this.perSecond) / 1000);
  }
}
