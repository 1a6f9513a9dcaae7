import { type Clock, type ClockTimer, MAX_TIMER_DELAY } from "../clock.js";

export interface FakeClockOptions {
  /** Where `now()` starts. Default 0. */
  now?: number;
  /** Where `date()` starts, in ms since the epoch. Default the real `Date.now()` at construction. */
  date?: number;
}

/** A timer of a `FakeClock`. */
interface FakeTimer {
  readonly at: number;
  /** Order of creation: timers due at the same instant fire in the order they were set. */
  readonly seq: number;
  readonly callback: () => void;
}

/**
 * A `Clock` that moves only when told: pass it as the server's `clock` option and call
 * `advance(ms)` where a test would otherwise sleep. Time stands still between calls, so a
 * heartbeat, a connect timeout or a token's expiry happens exactly when the test says; I/O (and
 * the official client's own timers) keep running in real time.
 *
 * `now()` and `date()` move together. A timer's callback runs with the clock at its due time,
 * so a timer that sets another sees the right `now()`. A callback that throws stops the
 * advance there, with the clock at that timer's time: the error reaches the test, and the
 * timers still due fire on the next `advance`.
 */
export class FakeClock implements Clock {
  #now: number;
  /** `date() - now()`, fixed at construction. */
  readonly #epoch: number;
  /** Pending timers, sorted by due time, then creation order. */
  readonly #timers: FakeTimer[] = [];
  #seq = 0;

  constructor(options: FakeClockOptions = {}) {
    this.#now = options.now ?? 0;
    this.#epoch = (options.date ?? Date.now()) - this.#now;
  }

  now(): number {
    return this.#now;
  }

  date(): number {
    return this.#epoch + this.#now;
  }

  setTimeout(callback: () => void, delay: number): ClockTimer {
    // as in Node, a delay outside 1..MAX_TIMER_DELAY becomes 1 ms
    const ms = delay >= 1 && delay <= MAX_TIMER_DELAY ? delay : 1;
    const timer: FakeTimer = { at: this.#now + ms, seq: this.#seq++, callback };
    // insert after every timer due at or before it (binary search: a server may hold many)
    let lo = 0;
    let hi = this.#timers.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#timers[mid] as FakeTimer).at <= timer.at) lo = mid + 1;
      else hi = mid;
    }
    this.#timers.splice(lo, 0, timer);
    return timer;
  }

  clearTimeout(timer: ClockTimer | undefined): void {
    if (timer === undefined) return;
    const index = this.#timers.indexOf(timer as FakeTimer);
    if (index >= 0) this.#timers.splice(index, 1);
  }

  /** Timers set and neither fired nor cleared. */
  get pending(): number {
    return this.#timers.length;
  }

  /** Milliseconds until the next timer is due; undefined when none is pending. */
  get nextIn(): number | undefined {
    const first = this.#timers[0];
    return first === undefined ? undefined : first.at - this.#now;
  }

  /**
   * Moves time forward by `ms`, firing every timer due by then in order, including timers set
   * by those callbacks that fall due within the same span. Returns how many fired.
   */
  advance(ms: number): number {
    if (!(Number.isFinite(ms) && ms >= 0))
      throw new RangeError(`advance(ms): ms must be a finite number >= 0, got ${ms}`);
    const target = this.#now + ms;
    let fired = 0;
    for (let first = this.#timers[0]; first !== undefined && first.at <= target; first = this.#timers[0]) {
      this.#fire(first);
      fired++;
    }
    this.#now = target;
    return fired;
  }

  /** Moves time to the next pending timer and fires it (alone). Returns false when none is pending. */
  next(): boolean {
    const first = this.#timers[0];
    if (first === undefined) return false;
    this.#fire(first);
    return true;
  }

  /**
   * Fires timers until none is pending, moving time to each. Stops with an error after `limit`
   * timers: a server's heartbeats set a new timer each time one fires, so with open sessions this
   * never ends by itself (use `advance` there). Returns how many fired.
   */
  runAll(limit = 10_000): number {
    let fired = 0;
    while (this.#timers.length > 0) {
      if (fired >= limit) throw new Error(`runAll: still ${this.#timers.length} timers pending after ${limit} fired`);
      this.next();
      fired++;
    }
    return fired;
  }

  #fire(timer: FakeTimer): void {
    this.#timers.shift();
    this.#now = timer.at;
    timer.callback();
  }
}
