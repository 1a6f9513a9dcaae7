import type { DefaultEventsMap, Namespace } from "tutti";
import { requestAndAck } from "./event-args.js";
import type {
  CreateOrderReply,
  DashboardClientEvents,
  DashboardServerEvents,
  Order,
  OrderInput,
  OrderSource,
} from "./events.js";
import { OrderFeed } from "./order-feed.js";
import { parseOrderInput } from "./order-input.js";
import { OrderSimulator } from "./order-simulator.js";

export type DashboardNamespace = Namespace<DashboardClientEvents, DashboardServerEvents, DefaultEventsMap, unknown>;

/** Whole seconds the feed's series covers (OrderFeed's default). */
const SERIES_SECONDS = 60;

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

  // Each second's stats go out once it has ended, every second once and in order: the timer
  // may fire late (several seconds ended meanwhile) or a little early (none has).
  let ticker: NodeJS.Timeout | undefined;
  let nextSecond = Math.floor(opts.now() / 1000);
  const tick = (): void => {
    ticker = setTimeout(
      () => {
        const current = Math.floor(opts.now() / 1000);
        // after a long stall (a suspended laptop), a minute is all the chart shows
        nextSecond = Math.max(nextSecond, current - SERIES_SECONDS);
        for (; nextSecond < current; nextSecond++) nsp.emit("second", feed.second(nextSecond));
        tick();
      },
      1000 - (opts.now() % 1000),
    );
    ticker.unref();
  };
  tick();

  nsp.on("connection", (socket) => {
    socket.emit("snapshot", feed.snapshot());
    socket.on("create", (request: unknown, ack: unknown) => {
      const [input, reply] = requestAndAck<CreateOrderReply>(request, ack);
      const parsed = parseOrderInput(input);
      reply(parsed.ok ? { ok: true, order: place(parsed.input, "form") } : { ok: false, error: parsed.error });
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
