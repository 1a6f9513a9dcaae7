import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { isNodeTag } from "./session-id.js";

/**
 * The headers a relaying node adds to a request it pipes to the owner: its tag, the client's
 * address as it computed it, the time, and an HMAC-SHA256 over those with the request's method
 * and url, keyed with the cluster's secret. Only the relay listener reads them; on the public
 * port they mean nothing, and a relaying node drops any the client sent before adding its own.
 */
export const RelayHeaders = {
  tag: "x-tutti-relay",
  address: "x-tutti-relay-address",
  time: "x-tutti-relay-time",
  signature: "x-tutti-relay-signature",
} as const;

const NAMES: ReadonlySet<string> = new Set(Object.values(RelayHeaders));

/** True for the relay headers' names (lower case), which a relaying node never passes on. */
export function isRelayHeader(lowerCaseName: string): boolean {
  return NAMES.has(lowerCaseName);
}

/** How long a signature stays good, either way of the owner's clock: 30 s. */
export const RELAY_SIGNATURE_WINDOW = 30_000;

/** What a valid signature vouches for. */
export interface RelayedFrom {
  /** The relaying node. */
  readonly tag: string;
  /** The client's address, as the relaying node's trusted-proxy walk found it. */
  readonly address: string;
}

function mac(secret: Uint8Array, tag: string, address: string, method: string, url: string, time: string): Buffer {
  return createHmac("sha256", secret).update(`${tag}\n${address}\n${method}\n${url}\n${time}`).digest();
}

/** The relay headers for a request `method url` of the client at `address`, signed at `now` (ms since the epoch). */
export function signRelay(
  secret: Uint8Array,
  tag: string,
  address: string,
  method: string,
  url: string,
  now: number,
): [string, string][] {
  const time = String(Math.floor(now));
  return [
    [RelayHeaders.tag, tag],
    [RelayHeaders.address, address],
    [RelayHeaders.time, time],
    [RelayHeaders.signature, mac(secret, tag, address, method, url, time).toString("base64url")],
  ];
}

function single(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === "string" ? value : undefined;
}

/**
 * What the relay headers of `req` vouch for, or undefined when they are missing, malformed,
 * badly signed or older (or newer) than 30 s at `now` (ms since the epoch).
 */
export function verifyRelay(secret: Uint8Array, req: IncomingMessage, now: number): RelayedFrom | undefined {
  const tag = single(req, RelayHeaders.tag);
  const address = single(req, RelayHeaders.address);
  const time = single(req, RelayHeaders.time);
  const signature = single(req, RelayHeaders.signature);
  if (tag === undefined || address === undefined || time === undefined || signature === undefined) return undefined;
  if (!isNodeTag(tag) || !/^\d{1,16}$/.test(time)) return undefined;
  if (Math.abs(now - Number(time)) > RELAY_SIGNATURE_WINDOW) return undefined;
  const expected = mac(secret, tag, address, req.method ?? "", req.url ?? "", time);
  const given = Buffer.from(signature, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  return { tag, address };
}
