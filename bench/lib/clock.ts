/**
 * Timestamps that survive a trip between processes. `process.hrtime()` reads CLOCK_MONOTONIC,
 * which every process on one Linux host shares, so a stamp taken in the server and read in a
 * load generator gives a true one-way latency. Microseconds keep the number well inside a
 * double's exact range (2^53 µs is 285 years of uptime).
 */
export function nowMicros(): number {
  const [s, ns] = process.hrtime();
  return s * 1e6 + Math.floor(ns / 1e3);
}

/** A payload of exactly `bytes` ASCII characters (at least the stamp) that starts with a send stamp. */
export function stampedPayload(bytes: number): string {
  const stamp = `${nowMicros()} `;
  return bytes > stamp.length ? stamp + "x".repeat(bytes - stamp.length) : stamp;
}

const ZERO = 0x30;
const NINE = 0x39;

/**
 * Reads the decimal stamp at `offset` of an encoded packet without decoding the packet: the load
 * generators must stay cheaper than the servers they drive. Returns -1 when there is no stamp.
 */
export function readStamp(data: Buffer | string, offset: number): number {
  let value = 0;
  let i = offset;
  if (typeof data === "string") {
    for (let c = data.charCodeAt(i); c >= ZERO && c <= NINE; c = data.charCodeAt(++i)) value = value * 10 + c - ZERO;
  } else {
    for (let c = data[i]; c !== undefined && c >= ZERO && c <= NINE; c = data[++i]) value = value * 10 + c - ZERO;
  }
  return i === offset ? -1 : value;
}
