/**
 * Runs calls that must all run, each app listener getting its turn even after one throws, and
 * keeps the first error to throw once they have (`rethrow`). Calls take their argument
 * separately, so a loop over many items allocates no closure per item.
 */
export class FirstError {
  #failed = false;
  #error: unknown;

  call<T>(item: T, fn: (item: T) => void): void {
    try {
      fn(item);
    } catch (err) {
      if (!this.#failed) {
        this.#failed = true;
        this.#error = err;
      }
    }
  }

  rethrow(): void {
    if (this.#failed) throw this.#error;
  }
}
