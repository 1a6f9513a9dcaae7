/**
 * Time as the server sees it. Everything Tutti schedules (heartbeats, connect and upgrade
 * timeouts, ack timeouts, token expiry, rate buckets) reads and sets time through one injected
 * `Clock`, so a test can move time forward instead of sleeping. The default is the system's.
 */
export interface Clock {
  /** Milliseconds on a monotonic scale: intervals, deadlines, token buckets. */
  now(): number;
  /** Milliseconds since the Unix epoch: wall-clock instants such as a token's `exp`. */
  date(): number;
  /** Calls `callback` once, `delay` ms from now; the handle is only for `clearTimeout`. */
  setTimeout(callback: () => void, delay: number): ClockTimer;
  /** Cancels a timer of this clock; `undefined` and spent timers are ignored. */
  clearTimeout(timer: ClockTimer | undefined): void;
}

/** Node's longest timer delay (2^31 - 1 ms); a later deadline is reached in several steps. */
export const MAX_TIMER_DELAY = 2 ** 31 - 1;

/** An opaque timer handle of a `Clock`. */
export type ClockTimer = object | number;

/** The system clock: `performance.now`, `Date.now` and Node's timers. */
export const systemClock: Clock = Object.freeze({
  now: () => performance.now(),
  date: () => Date.now(),
  setTimeout: (callback: () => void, delay: number): ClockTimer => setTimeout(callback, delay),
  clearTimeout: (timer: ClockTimer | undefined): void => clearTimeout(timer as NodeJS.Timeout | undefined),
});

/**
 * Lets the process exit while `timer` is pending, when it is a Node timer: for timers that only
 * tidy up (a response nobody reads, a token's expiry) and must not hold a closed server's
 * process open. A fake clock's timers hold nothing, so they are left as they are.
 */
export function unrefTimer(timer: ClockTimer): void {
  if (typeof timer === "object" && typeof (timer as { unref?: unknown }).unref === "function") {
    (timer as { unref(): void }).unref();
  }
}
