/**
 * A latency histogram with logarithmic buckets 1% wide, from 1 µs up. Fixed buckets make it cheap
 * to record millions of samples and exact to merge across load-generator processes, at the cost
 * of reporting each percentile to within 1%.
 */
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
/** 1% buckets up to 1e9 µs (over 16 minutes): anything slower is clamped into the last. */
const BUCKETS = Math.ceil(Math.log(1e9) / LOG_GROWTH) + 1;

/** A histogram as it crosses IPC: only the non-empty buckets, as [index, count] pairs. */
export type HistogramData = [number, number][];

export class Histogram {
  readonly #counts = new Float64Array(BUCKETS);
  #total = 0;

  get count(): number {
    return this.#total;
  }

  record(micros: number): void {
    const i = micros <= 1 ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(micros) / LOG_GROWTH));
    this.#counts[i] = (this.#counts[i] ?? 0) + 1;
    this.#total++;
  }

  reset(): void {
    this.#counts.fill(0);
    this.#total = 0;
  }

  toData(): HistogramData {
    const out: HistogramData = [];
    this.#counts.forEach((n, i) => {
      if (n > 0) out.push([i, n]);
    });
    return out;
  }

  add(data: HistogramData): void {
    for (const [i, n] of data) {
      this.#counts[i] = (this.#counts[i] ?? 0) + n;
      this.#total += n;
    }
  }

  /** The upper bound, in µs, of the bucket holding quantile `q` (0..1); NaN when empty. */
  quantile(q: number): number {
    if (this.#total === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * this.#total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i] ?? 0;
      if (seen >= rank) return GROWTH ** i;
    }
    return GROWTH ** (BUCKETS - 1);
  }
}
