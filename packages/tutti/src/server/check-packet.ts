import { isBinary } from "../protocol/binary.js";
import { isPayloadValid, type SocketPacket, SocketPacketType } from "../protocol/socket-packet.js";
import type { ParserLimits } from "./tutti-parser.js";

/**
 * Checks a packet a custom decoder emitted, as Tutti's own decoder checks what it parses: the
 * shape (`type` 0 to 6, `nsp` a string, `id` absent or a non-negative integer, `data` valid for
 * the type) and the limits `maxArguments` and `maxDepth`. Returns a fresh packet (BINARY_EVENT
 * and BINARY_ACK as EVENT and ACK), or what was wrong.
 */
export function checkPacket(value: unknown, limits: ParserLimits): SocketPacket | string {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return "invalid packet";
  const raw = value as { type?: unknown; nsp?: unknown; id?: unknown; data?: unknown };
  const rawType = raw.type;
  if (typeof rawType !== "number" || !Number.isInteger(rawType) || rawType < 0 || rawType > 6) {
    return "invalid packet type";
  }
  let type = rawType as SocketPacketType;
  if (type === SocketPacketType.BINARY_EVENT) type = SocketPacketType.EVENT;
  else if (type === SocketPacketType.BINARY_ACK) type = SocketPacketType.ACK;
  const nsp = raw.nsp;
  if (typeof nsp !== "string") return "invalid namespace";
  const id = raw.id;
  if (id !== undefined && (typeof id !== "number" || !Number.isSafeInteger(id) || id < 0)) return "invalid ack id";
  if (type === SocketPacketType.ACK && id === undefined) return "ack without id";
  let data = raw.data;
  if (data === undefined) {
    if (type === SocketPacketType.EVENT) return "invalid payload";
    if (type === SocketPacketType.ACK) data = [];
  } else {
    if (!isPayloadValid(type, data)) return "invalid payload";
    if (Array.isArray(data)) {
      const named = type === SocketPacketType.EVENT ? 1 : 0;
      if (data.length > limits.maxArguments + named) return "too many arguments";
    }
    // An event's or ack's arguments sit in one outer array, which is not a level of theirs.
    const outer = type === SocketPacketType.CONNECT ? 0 : 1;
    if (nestsDeeperThan(data, limits.maxDepth + outer)) return "payload nested too deep";
  }
  const packet: { type: SocketPacketType; nsp: string; id?: number; data?: unknown } = { type, nsp };
  if (id !== undefined) packet.id = id;
  if (data !== undefined) packet.data = data;
  return packet;
}

/**
 * Whether arrays and objects in `value` nest deeper than `maxDepth` (binary values are leaves).
 * Walks without recursion, so no depth a decoder builds can overflow the stack; stops at the
 * limit, so a cyclic value is refused, not walked forever; and walks an object met again only
 * when it is met deeper, so shared references (a decoder may build them) cost no more than
 * their depths.
 */
function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  if (maxDepth === Number.POSITIVE_INFINITY) return false;
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  const seen = new Map<object, number>();
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const current = item.value;
    if (current === null || typeof current !== "object" || isBinary(current)) continue;
    const depth = item.depth + 1;
    if (depth > maxDepth) return true;
    if ((seen.get(current) ?? 0) >= depth) continue;
    seen.set(current, depth);
    const children: readonly unknown[] = Array.isArray(current) ? current : Object.values(current);
    for (const child of children) {
      if (child !== null && typeof child === "object") stack.push({ value: child, depth });
    }
  }
  return false;
}
