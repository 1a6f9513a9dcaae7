import type { IncomingMessage } from "node:http";
import { BlockList, isIP } from "node:net";
import { TuttiError } from "../errors.js";

/** An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) as plain IPv4; any other address as it is. */
export function plainAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped === null ? address : (mapped[1] as string);
}

/**
 * One X-Forwarded-For entry as an address, or undefined when it is none. Some balancers
 * (Azure's) add the client's port: `1.2.3.4:5678`, `[2001:db8::1]:5678`.
 */
function forwardedEntry(entry: string): string | undefined {
  let address = entry.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracketed !== null) address = bracketed[1] as string;
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(address)) address = address.slice(0, address.lastIndexOf(":"));
  return isIP(address) === 0 ? undefined : plainAddress(address);
}

/**
 * The proxies whose X-Forwarded-For header is believed (the `trustedProxies` option): addresses
 * and CIDR ranges, IPv4 or IPv6.
 *
 * Which entry is the client: each proxy appends the address it got the request from, so reading
 * from the right, every entry up to and including the first one written about an untrusted
 * address was written by a trusted proxy. That first untrusted entry is the client. Entries
 * further left came from the client itself (or from proxies nobody vouches for) and may be
 * anything: taking the left-most entry, as some frameworks do, would let each client pick a
 * fresh address per handshake and escape the per-address limits. When every entry is a trusted
 * proxy, the left-most one is the client (a request from inside the proxy network). A malformed
 * entry stops the walk at the last well-formed one: the limits then count under that hop.
 *
 * The `Forwarded` header (RFC 7239) is not read: nginx, HAProxy and the cloud load balancers
 * set X-Forwarded-For; an app behind one that only sets `Forwarded` can read it in `clientAddress`.
 */
export class TrustedProxies {
  readonly #list = new BlockList();

  constructor(entries: readonly string[]) {
    for (const entry of entries) this.#add(entry);
  }

  #add(entry: string): void {
    const invalid = (): TuttiError =>
      new TuttiError("INVALID_OPTION", `trustedProxies: "${String(entry)}" is not an address or a CIDR range`);
    if (typeof entry !== "string") throw invalid();
    const slash = entry.indexOf("/");
    const written = slash === -1 ? entry : entry.slice(0, slash);
    // peers are compared as plain IPv4 when IPv4-mapped, so mapped entries are stored so too
    const address = plainAddress(written);
    const mapped = address !== written;
    const version = isIP(address);
    if (version === 0) throw invalid();
    const type = version === 4 ? "ipv4" : "ipv6";
    if (slash === -1) {
      this.#list.addAddress(address, type);
      return;
    }
    const bits = entry.slice(slash + 1);
    const prefix = Number(bits) - (mapped ? 96 : 0);
    if (!/^\d+$/.test(bits) || prefix < 0 || prefix > (version === 4 ? 32 : 128)) throw invalid();
    this.#list.addSubnet(address, prefix, type);
  }

  /** Whether `address` (plain IPv4 or IPv6) is one of the trusted proxies. */
  has(address: string): boolean {
    const version = isIP(address);
    if (version === 0) return false;
    return this.#list.check(address, version === 4 ? "ipv4" : "ipv6");
  }

  /**
   * The client's address: the TCP peer's when the peer is not a trusted proxy, otherwise the
   * right-most X-Forwarded-For entry that is not a trusted proxy (see the class comment).
   */
  clientOf(req: IncomingMessage): string {
    const peer = plainAddress(req.socket.remoteAddress ?? "");
    if (!this.has(peer)) return peer;
    const header = req.headers["x-forwarded-for"];
    const value = Array.isArray(header) ? header.join(",") : header;
    if (value === undefined) return peer;
    const entries = value.split(",");
    let client = peer;
    for (let i = entries.length - 1; i >= 0; i--) {
      const address = forwardedEntry(entries[i] as string);
      if (address === undefined) break;
      client = address;
      if (!this.has(address)) break;
    }
    return client;
  }
}
