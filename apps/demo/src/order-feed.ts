import type { DashboardSnapshot, Order, OrderInput, OrderSource, SecondStats, Totals } from "./events.js";
import { CATALOG } from "./order-input.js";

export interface OrderFeedOptions {
  /** The clock, in ms since the epoch. */
  now: () => number;
  /** How many of the latest orders the feed keeps (20). */
  latest?: number;
  /** How many whole seconds the series covers (60). */
  seconds?: number;
}

const cents = (n: number): number => Math.round(n * 100) / 100;

/**
 * The dashboard's data, in memory and bounded: the latest orders, per-second counts and revenue
 * for the last minute, and running totals. It only records; who hears about an order is the
 * caller's business.
 */
export class OrderFeed {
  readonly #now: () => number;
  readonly #latestSize: number;
  readonly #seconds: number;
  readonly #buckets = new Map<number, SecondStats>();
  #latest: Order[] = [];
  #totals: Totals = { orders: 0, revenue: 0 };
  #nextId = 1001;

  constructor(opts: OrderFeedOptions) {
    this.#now = opts.now;
    this.#latestSize = opts.latest ?? 20;
    this.#seconds = opts.seconds ?? 60;
  }

  /** Records an order placed at `at` (now by default) and returns it. */
  add(input: Required<OrderInput>, source: OrderSource, at = this.#now()): Order {
    const order: Order = {
      id: String(this.#nextId++),
      at,
      customer: input.customer,
      product: input.product,
      quantity: input.quantity,
      amount: cents(input.quantity * input.price),
      source,
    };
    const t = Math.floor(at / 1000);
    const bucket = this.#buckets.get(t) ?? { t, orders: 0, revenue: 0 };
    bucket.orders += 1;
    bucket.revenue = cents(bucket.revenue + order.amount);
    this.#buckets.set(t, bucket);
    this.#totals = { orders: this.#totals.orders + 1, revenue: cents(this.#totals.revenue + order.amount) };
    this.#latest = [order, ...this.#latest].slice(0, this.#latestSize);
    this.#prune();
    return order;
  }

  /** The stats of whole second `t` (seconds since the epoch), zeros when nothing was ordered. */
  second(t: number): SecondStats {
    const bucket = this.#buckets.get(t);
    return bucket === undefined ? { t, orders: 0, revenue: 0 } : { ...bucket };
  }

  /** The last `seconds` whole seconds before the current one, oldest first. */
  series(): SecondStats[] {
    const current = Math.floor(this.#now() / 1000);
    const out: SecondStats[] = [];
    for (let t = current - this.#seconds; t < current; t++) out.push(this.second(t));
    return out;
  }

  get totals(): Totals {
    return this.#totals;
  }

  snapshot(): DashboardSnapshot {
    return { catalog: [...CATALOG], series: this.series(), latest: [...this.#latest], totals: this.#totals };
  }

  #prune(): void {
    // keeps one second more than the series shows, for the second that just ended
    const oldest = Math.floor(this.#now() / 1000) - this.#seconds - 1;
    for (const t of this.#buckets.keys()) if (t < oldest) this.#buckets.delete(t);
  }
}
