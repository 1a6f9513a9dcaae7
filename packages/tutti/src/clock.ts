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

/** An opaque timer handle of a `Clock`. */
export type ClockTimer = object | number;

/** The system clock: `performance.now`, `Date.now` and Node's timers. */
export const systemClock: Clock = Object.freeze({
  now: () => performance.now(),
  date: () => Date.now(),
  setTimeout: (callback: () => void, delay: number): ClockTimer => setTimeout(callback, delay),
  clearTimeout: (timer: ClockTimer | undefined): void => clearTimeout(timer as NodeJS.Timeout | undefined),
});
