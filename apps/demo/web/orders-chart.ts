import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { SecondStats } from "../src/events.js";
import { format } from "./dom.js";

const HEIGHT = 300;
const INDIGO = "#6366f1";
const EMERALD = "#10b981";
const AXIS = "#64748b";
const GRID = "rgba(100, 116, 139, 0.14)";

const axis = (extra: Partial<uPlot.Axis>): uPlot.Axis => ({
  stroke: AXIS,
  grid: { stroke: GRID, width: 1 },
  ticks: { show: false },
  font: "12px Inter, system-ui, sans-serif",
  ...extra,
});

/**
 * Orders per second as bars and revenue per second as a line on a second axis, over the last
 * minute (uPlot: canvas, small, and fast enough to redraw every second without a thought).
 */
export class OrdersChart {
  readonly #plot: uPlot;
  readonly #container: HTMLElement;

  constructor(container: HTMLElement) {
    this.#container = container;
    const opts: uPlot.Options = {
      width: Math.max(280, container.clientWidth),
      height: HEIGHT,
      padding: [12, 8, 0, 0],
      cursor: { drag: { x: false, y: false }, points: { size: 7 } },
      legend: { live: false },
      scales: {
        x: { time: true },
        orders: { range: (_u, _min, max) => [0, Math.max(4, Math.ceil(max * 1.25))] },
        revenue: { range: (_u, _min, max) => [0, Math.max(100, Math.ceil((max * 1.25) / 50) * 50)] },
      },
      series: [
        { value: (_u, v) => (v == null ? "–" : format.timeSeconds(v * 1000)) },
        {
          label: "Orders/s",
          scale: "orders",
          stroke: INDIGO,
          fill: "rgba(99, 102, 241, 0.55)",
          width: 0,
          paths: uPlot.paths.bars?.({ size: [0.7, 14], gap: 1 }),
          points: { show: false },
          value: (_u, v) => (v == null ? "–" : String(v)),
        },
        {
          label: "Revenue/s",
          scale: "revenue",
          stroke: EMERALD,
          width: 2,
          fill: "rgba(16, 185, 129, 0.08)",
          points: { show: false },
          value: (_u, v) => (v == null ? "–" : format.money(v)),
        },
      ],
      axes: [
        axis({
          space: 60,
          // ":10", ":20"… and the time at each whole minute
          values: (_u, ticks) =>
            ticks.map((t) => (t % 60 === 0 ? format.time(t * 1000) : `:${String(t % 60).padStart(2, "0")}`)),
        }),
        axis({ scale: "orders", size: 40, values: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) ? t : "")) }),
        axis({
          scale: "revenue",
          side: 1,
          size: 56,
          grid: { show: false },
          values: (_u, ticks) => ticks.map((t) => format.moneyShort(t)),
        }),
      ],
    };
    this.#plot = new uPlot(opts, [[], [], []], container);
    new ResizeObserver(() => {
      const width = Math.max(280, this.#container.clientWidth);
      if (width !== this.#plot.width) this.#plot.setSize({ width, height: HEIGHT });
    }).observe(container);
  }

  show(series: readonly SecondStats[]): void {
    this.#plot.setData([series.map((s) => s.t), series.map((s) => s.orders), series.map((s) => s.revenue)]);
  }
}
