import type { Socket } from "socket.io-client";
import type { DashboardClientEvents, DashboardServerEvents, Order, SecondStats, Totals } from "../src/events.js";
import { byId, el, format } from "./dom.js";
import { OrdersChart } from "./orders-chart.js";

type DashboardSocket = Socket<DashboardServerEvents, DashboardClientEvents>;

/** Seconds the chart and the per-minute figures cover. */
const WINDOW = 60;
const ROWS = 20;

const SOURCE_LABELS: Record<Order["source"], string> = { simulated: "simulated", api: "API", form: "form" };

/**
 * The live dashboard: a snapshot on connecting (again after each reconnect), then each order
 * as it is placed and each second's stats as the second ends. Nothing here polls.
 */
export function setupDashboard(socket: DashboardSocket): void {
  const chart = new OrdersChart(byId("chart"));
  const body = byId<HTMLTableSectionElement>("orders-body");
  const form = byId<HTMLFormElement>("order-form");
  const product = byId<HTMLSelectElement>("order-product");
  const result = byId("order-result");
  let series: SecondStats[] = [];

  const showKpis = (totals: Totals): void => {
    const orders = series.reduce((n, s) => n + s.orders, 0);
    const revenue = series.reduce((n, s) => n + s.revenue, 0);
    byId("kpi-orders").textContent = String(orders);
    byId("kpi-rate").textContent = `${(orders / WINDOW).toFixed(1)} per second`;
    byId("kpi-revenue").textContent = format.money(revenue);
    byId("kpi-average").textContent = orders === 0 ? "–" : format.money(revenue / orders);
    byId("kpi-total").textContent = totals.orders.toLocaleString("en-US");
    byId("kpi-total-revenue").textContent = `${format.money(totals.revenue)} in all`;
  };
  let totals: Totals = { orders: 0, revenue: 0 };

  const row = (order: Order, fresh: boolean): HTMLTableRowElement => {
    const tr = el("tr", fresh ? "fresh" : undefined);
    tr.dataset.id = order.id;
    const source = el("span", `source ${order.source}`, SOURCE_LABELS[order.source]);
    const cells: Array<[string, string | HTMLElement]> = [
      ["id", `#${order.id}`],
      ["time", format.timeSeconds(order.at)],
      ["customer", order.customer],
      ["product", order.product],
      ["num", String(order.quantity)],
      ["num amount", format.money(order.amount)],
      ["src", source],
    ];
    for (const [className, content] of cells) {
      const td = el("td", className);
      td.append(content);
      tr.append(td);
    }
    return tr;
  };

  socket.on("snapshot", (snapshot) => {
    if (product.options.length === 0) {
      product.append(
        ...snapshot.catalog.map((p) => {
          const option = el("option", undefined, `${p.name} · ${format.money(p.price)}`);
          option.value = p.name;
          return option;
        }),
      );
    }
    series = snapshot.series.slice(-WINDOW);
    totals = snapshot.totals;
    chart.show(series);
    body.replaceChildren(...snapshot.latest.map((order) => row(order, false)));
    showKpis(totals);
  });

  socket.on("order", (order, newTotals) => {
    body.prepend(row(order, true));
    while (body.rows.length > ROWS) body.deleteRow(-1);
    totals = newTotals;
    showKpis(totals);
  });

  socket.on("second", (stats) => {
    if (series.length > 0 && stats.t <= (series[series.length - 1]?.t ?? 0)) return;
    series = [...series, stats].slice(-WINDOW);
    chart.show(series);
    showKpis(totals);
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const input = {
      customer: String(data.get("customer") ?? ""),
      product: String(data.get("product") ?? ""),
      quantity: Number(data.get("quantity")),
    };
    result.className = "muted";
    result.textContent = "Placing…";
    try {
      const reply = await socket.timeout(5000).emitWithAck("create", input);
      result.className = reply.ok ? "ok" : "error";
      result.textContent = reply.ok
        ? `Order #${reply.order.id} placed: ${format.money(reply.order.amount)}`
        : `Not placed: ${reply.error}`;
    } catch {
      result.className = "error";
      result.textContent = "Not placed: no connection to the server";
    }
  });

  const example = JSON.stringify({ customer: "Grace Hopper", product: "Ceramic mug", quantity: 2 });
  byId("curl").textContent =
    `curl ${location.origin}/api/orders \\\n  -H 'content-type: application/json' \\\n  -d '${example}'`;
}
