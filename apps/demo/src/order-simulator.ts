import type { OrderInput } from "./events.js";
import { CATALOG } from "./order-input.js";

const FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Margaret", "Linus", "Radia", "Donald", "Frances"];
const LAST = ["L.", "H.", "T.", "D.", "L.", "T.", "H.", "T.", "P.", "K.", "A."];

export interface OrderSimulatorOptions {
  /** Mean orders per second; the rate swells and ebbs around it over a 40-second cycle. */
  ordersPerSecond: number;
  /** Uniform in [0, 1), as Math.random. */
  random: () => number;
  now: () => number;
  /** Called with each simulated order and when it was placed. */
  place: (input: Required<OrderInput>, at: number) => void;
}

/**
 * A shop's orders: random customers, products and quantities, arriving as a Poisson process
 * whose rate follows a slow wave, so the chart has something to show. Its timer is unref'd, so it
 * never keeps the process alive, and `stop()` ends it.
 */
export class OrderSimulator {
  readonly #opts: OrderSimulatorOptions;
  #timer: NodeJS.Timeout | undefined;

  constructor(opts: OrderSimulatorOptions) {
    this.#opts = opts;
  }

  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** Places the orders of the last `seconds` seconds at once, so the chart starts full. */
  backfill(seconds: number): void {
    const now = this.#opts.now();
    let at = now - seconds * 1000;
    for (;;) {
      at += this.#gap(at);
      if (at >= now) break;
      this.#opts.place(this.#input(), Math.floor(at));
    }
  }

  start(): void {
    if (this.#timer !== undefined || this.#opts.ordersPerSecond <= 0) return;
    const schedule = (): void => {
      this.#timer = setTimeout(() => {
        this.#opts.place(this.#input(), this.#opts.now());
        schedule();
      }, this.#gap(this.#opts.now()));
      this.#timer.unref();
    };
    schedule();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** ms to the next order: exponential with the rate of the moment. */
  #gap(at: number): number {
    const rate = this.#opts.ordersPerSecond * (1 + 0.6 * Math.sin((2 * Math.PI * at) / 40_000));
    return Math.min(5000, Math.max(20, (-Math.log(1 - this.#opts.random()) / rate) * 1000));
  }

  #input(): Required<OrderInput> {
    const pick = <T>(list: readonly T[]): T => list[Math.floor(this.#opts.random() * list.length)] as T;
    const i = Math.floor(this.#opts.random() * FIRST.length);
    const product = pick(CATALOG);
    const quantity = this.#opts.random() < 0.7 ? 1 : 2 + Math.floor(this.#opts.random() * 3);
    return { customer: `${FIRST[i]} ${LAST[i]}`, product: product.name, quantity, price: product.price };
  }
}
