import { afterEach } from "node:test";
import { waitFor } from "./sio-helpers.js";

/**
 * A list of cleanups run after each test of the calling file, last registered first. Call it
 * once at the top level of a test file.
 */
export function cleanupsAfterEach(): Array<() => unknown> {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return cleanups;
}

/** The next `event` of `emitter`, as `waitFor`, with a rejection nobody awaits left unreported. */
export function next<T extends unknown[] = unknown[]>(emitter: unknown, event: string): Promise<T> {
  const promise = waitFor<T>(emitter as Parameters<typeof waitFor>[0], event);
  promise.catch(() => {});
  return promise;
}
