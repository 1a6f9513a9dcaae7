import { Packr } from "msgpackr";
import type { FeedEntry, NodeMessage, StoredMessage } from "tutti";

/**
 * The wire format between nodes: a few msgpack values one after the other, the first naming
 * the kind. msgpack because a broadcast's arguments may hold binary, which must come back as
 * Buffers (JSON would need socket.io's placeholder dance), and because the publish script
 * prefixes a stored message's position with Redis's own `cmsgpack` without decoding it.
 *
 * - stored: `"m", epoch, seq, {r, x, c, d}`; the publish script writes the first three and
 *   appends the payload the publisher encoded (the stream entry holds the payload alone);
 * - ephemeral: `"e", from, namespace, message`.
 */
const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true });

export const STORED = "m";
export const EPHEMERAL = "e";

interface StoredPayload {
  readonly r: readonly string[];
  readonly x: readonly string[];
  readonly c: boolean;
  readonly d: readonly unknown[];
}

/** A stored message's payload, as the stream entry holds it. */
export function encodeStored(message: StoredMessage): Buffer {
  const payload: StoredPayload = { r: message.rooms, x: message.except, c: message.compress, d: message.data };
  return packr.pack(payload);
}

/** An ephemeral message from node `from` of namespace `nsp`. */
export function encodeEphemeral(from: string, nsp: string, message: NodeMessage): Buffer {
  return Buffer.concat([packr.pack(EPHEMERAL), packr.pack(from), packr.pack(nsp), packr.pack(message)]);
}

export type Decoded =
  | { readonly kind: typeof STORED; readonly entry: FeedEntry }
  | { readonly kind: typeof EPHEMERAL; readonly from: string; readonly nsp: string; readonly message: NodeMessage };

/** Decodes what arrived on a channel; throws on anything this build did not write. */
export function decode(buffer: Buffer): Decoded {
  const values = packr.unpackMultiple(buffer) as unknown[];
  const kind = values[0];
  if (kind === STORED && values.length === 4) {
    const [, epoch, seq, payload] = values as [string, string, number, StoredPayload];
    if (typeof epoch !== "string" || typeof seq !== "number" || !isPayload(payload)) throw malformed();
    return {
      kind,
      entry: { epoch, seq, rooms: payload.r, except: payload.x, compress: payload.c, data: payload.d },
    };
  }
  if (kind === EPHEMERAL && values.length === 4) {
    const [, from, nsp, message] = values as [string, string, string, NodeMessage];
    if (typeof from !== "string" || typeof nsp !== "string" || !isMessage(message)) throw malformed();
    return { kind, from, nsp, message };
  }
  throw malformed();
}

function isPayload(value: unknown): value is StoredPayload {
  if (typeof value !== "object" || value === null) return false;
  const p = value as Record<string, unknown>;
  return Array.isArray(p.r) && Array.isArray(p.x) && typeof p.c === "boolean" && Array.isArray(p.d);
}

function isMessage(value: unknown): value is NodeMessage {
  return typeof value === "object" && value !== null && typeof (value as { t?: unknown }).t === "string";
}

function malformed(): Error {
  return new Error("@tutti/redis: a message on a broker channel is not in this build's format");
}
