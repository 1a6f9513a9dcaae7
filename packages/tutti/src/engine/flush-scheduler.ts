import { FirstError } from "./first-error.js";

/** Something with an outgoing queue to write out. */
export interface Flushable {
  flush(): void;
}

const flushOne = (item: Flushable): void => item.flush();

/**
 * Coalesces writes: every session that queued packets during this event-loop turn is flushed
 * once, from a single `setImmediate` shared by the whole server, so a burst of sends to one
 * socket becomes one write and a broadcast to thousands costs one timer, not thousands.
 */
export class FlushScheduler {
  #pending: Flushable[] = [];
  #armed = false;

  schedule(item: Flushable): void {
    this.#pending.push(item);
    if (!this.#armed) {
      this.#armed = true;
      setImmediate(this.#run);
    }
  }

  #run = (): void => {
    this.#armed = false;
    const pending = this.#pending;
    this.#pending = [];
    // An app's listener that throws inside one flush ("flush", "drain") must not leave the
    // sessions after it unflushed: they are flushed, then the first error is thrown on.
    const errors = new FirstError();
    for (const item of pending) errors.call(item, flushOne);
    errors.rethrow();
  };
}
