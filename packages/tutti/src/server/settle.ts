/**
 * Runs an adapter lifecycle call: a cluster adapter's init or close may fail (its broker is
 * down), and that must not take the process with it. The failure becomes a process warning.
 */
export function settle(call: () => Promise<void> | void, what: string): void {
  const warn = (err: unknown): void => {
    process.emitWarning(`adapter ${what} failed: ${err instanceof Error ? err.message : String(err)}`, "TuttiWarning");
  };
  try {
    const result = call();
    if (result !== undefined) Promise.resolve(result).catch(warn);
  } catch (err) {
    warn(err);
  }
}
