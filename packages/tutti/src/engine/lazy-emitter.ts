import { EventEmitter } from "node:events";

type EventMap<T> = Record<keyof T, unknown[]>;
// the shapes of @types/node's EventEmitter<T>, so a session fits wherever an emitter did
type Key<K, T> = K | keyof T;
type Listener<K, T> = K extends keyof T ? (T[K] extends unknown[] ? (...args: T[K]) => void : never) : never;
type Args<K, T> = K extends keyof T ? (T[K] extends unknown[] ? T[K] : never) : never;
type AnyListener = (...args: unknown[]) => void;
type Name = string | symbol;

/**
 * The EventEmitter API over an emitter created on the first listener. Engine sessions rarely
 * have listeners of their own (the Socket.IO layer is called directly), so most never create
 * one: an idle connection saves the emitter's state, and a hot path asking `hasListeners`
 * answers from one field instead of a dictionary lookup per packet (both measured).
 * Listeners are called with the inner emitter as `this`, not the session.
 */
export class LazyEmitter<T extends EventMap<T>> {
  #emitter: EventEmitter | undefined;

  #inner(): EventEmitter {
    this.#emitter ??= new EventEmitter();
    return this.#emitter;
  }

  /** True when `event` has a listener; cheap when the emitter was never needed. */
  hasListeners(event: keyof T): boolean {
    return this.#emitter !== undefined && this.#emitter.listenerCount(event as Name) > 0;
  }

  on<K>(event: Key<K, T>, listener: Listener<K, T>): this {
    this.#inner().on(event as Name, listener as unknown as AnyListener);
    return this;
  }

  addListener<K>(event: Key<K, T>, listener: Listener<K, T>): this {
    return this.on(event, listener);
  }

  once<K>(event: Key<K, T>, listener: Listener<K, T>): this {
    this.#inner().once(event as Name, listener as unknown as AnyListener);
    return this;
  }

  prependListener<K>(event: Key<K, T>, listener: Listener<K, T>): this {
    this.#inner().prependListener(event as Name, listener as unknown as AnyListener);
    return this;
  }

  prependOnceListener<K>(event: Key<K, T>, listener: Listener<K, T>): this {
    this.#inner().prependOnceListener(event as Name, listener as unknown as AnyListener);
    return this;
  }

  off<K>(event: Key<K, T>, listener: Listener<K, T>): this {
    this.#emitter?.off(event as Name, listener as unknown as AnyListener);
    return this;
  }

  removeListener<K>(event: Key<K, T>, listener: Listener<K, T>): this {
    return this.off(event, listener);
  }

  removeAllListeners(event?: keyof T): this {
    if (event === undefined) this.#emitter?.removeAllListeners();
    else this.#emitter?.removeAllListeners(event as Name);
    return this;
  }

  emit<K>(event: Key<K, T>, ...args: Args<K, T>): boolean {
    const emitter = this.#emitter;
    if (emitter !== undefined) return emitter.emit(event as Name, ...args);
    // an "error" nobody listens to throws, as EventEmitter does
    if (event === "error") throw args[0] instanceof Error ? args[0] : new Error(`Unhandled error: ${String(args[0])}`);
    return false;
  }

  listenerCount(event: keyof T): number {
    return this.#emitter?.listenerCount(event as Name) ?? 0;
  }

  listeners<K>(event: Key<K, T>): Listener<K, T>[] {
    return (this.#emitter?.listeners(event as Name) ?? []) as Listener<K, T>[];
  }

  rawListeners<K>(event: Key<K, T>): Listener<K, T>[] {
    return (this.#emitter?.rawListeners(event as Name) ?? []) as Listener<K, T>[];
  }

  eventNames(): (keyof T)[] {
    return (this.#emitter?.eventNames() ?? []) as (keyof T)[];
  }

  setMaxListeners(n: number): this {
    this.#inner().setMaxListeners(n);
    return this;
  }

  getMaxListeners(): number {
    return this.#emitter?.getMaxListeners() ?? EventEmitter.defaultMaxListeners;
  }
}
