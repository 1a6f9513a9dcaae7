import type { DefaultEventsMap, Namespace } from "tutti";
import type { DashboardClientEvents, DashboardServerEvents, Order, OrderInput, OrderSource } from "./events.js";
import { OrderFeed } from "./order-feed.js";
import { parseOrderInput } from "./order-input.js";
import { OrderSimulator } from "./order-simulator.js";

export type DashboardNamespace = Namespace<DashboardClientEvents, DashboardServerEvents, DefaultEventsMap, unknown>;

export interface DashboardOptions {
  now: () => number;
  random: () => number;
  /** Mean simulated orders per second; 0 simulates none. */
  ordersPerSecond: number;
}

export interface Dashboard {
  readonly feed: OrderFeed;
  /** Records an order and shows it on every open dashboard at once. */
  place(input: Required<OrderInput>, source: OrderSource): Order;
  /** Stops the simulator and the per-second timer. */
  stop(): void;
}

/**
 * The live dashboard on `nsp`: a snapshot on connecting, then every order as it is placed and,
 * at each whole second, the stats of the second that just ended. Orders come from the simulator,
 * from `place()` (POST /api/orders) and from the page's form (the "create" event).
 */
export function setupDashboard(nsp: DashboardNamespace, opts: DashboardOptions): Dashboard {
  const feed = new OrderFeed({ now: opts.now });
  const place = (input: Required<OrderInput>, source: OrderSource, at?: number): Order => {
    const order = feed.add(input, source, at);
    nsp.emit("order", order, feed.totals);
    return order;
  };
  const simulator = new OrderSimulator({
    ordersPerSecond: opts.ordersPerSecond,
    random: opts.random,
    now: opts.now,
    place: (input, at) => place(input, "simulated", at),
  });
  if (opts.ordersPerSecond > 0) {
    simulator.backfill(60);
    simulator.start();
  }

  let ticker: NodeJS.Timeout | undefined;
  const tick = (): void => {
    const now = opts.now();
    ticker = setTimeout(
      () => {
        nsp.emit("second", feed.second(Math.floor(opts.now() / 1000) - 1));
        tick();
      },
      1000 - (now % 1000),
    );
    ticker.unref();
  };
  tick();

  nsp.on("connection", (socket) => {
    socket.emit("snapshot", feed.snapshot());
    socket.on("create", (input, ack) => {
      if (typeof ack !== "function") return;
      const parsed = parseOrderInput(input);
      ack(parsed.ok ? { ok: true, order: place(parsed.input, "form") } : { ok: false, error: parsed.error });
    });
  });

  return {
    feed,
    place: (input, source) => place(input, source),
    stop: () => {
      simulator.stop();
      clearTimeout(ticker);
    },
  };
}
