import type { Clock, ClockTimer } from "../src/index.js";

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly callback: () => void;
}

/**
 * A `Clock` whose time moves only when a test calls `advance`, so ack timeouts are tested
 * without sleeping. Timers due at the same instant run in the order they were set.
 */
export class FakeClock implements Clock {
  #now = 0;
  #seq = 0;
  readonly #timers = new Set<Timer>();

  now(): number {
    return this.#now;
  }

  date(): number {
    return 1_700_000_000_000 + this.#now;
  }

  setTimeout(callback: () => void, delay: number): ClockTimer {
    const timer: Timer = { at: this.#now + Math.max(0, delay), seq: this.#seq++, callback };
    this.#timers.add(timer);
    return timer;
  }

  clearTimeout(timer: ClockTimer | undefined): void {
    if (typeof timer === "object") this.#timers.delete(timer as Timer);
  }

  /** Timers set and not yet run or cleared. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Moves time forward by `ms`, running every timer that falls due, in order. */
  advance(ms: number): void {
    const until = this.#now + ms;
    for (;;) {
      let next: Timer | undefined;
      for (const timer of this.#timers) {
        if (
          timer.at <= until &&
          (next === undefined || timer.at < next.at || (timer.at === next.at && timer.seq < next.seq))
        ) {
          next = timer;
        }
      }
      if (next === undefined) break;
      this.#timers.delete(next);
      this.#now = next.at;
      next.callback();
    }
    this.#now = until;
  }
}
