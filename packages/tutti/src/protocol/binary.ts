/**
 * Binary attachments of Socket.IO packets: each binary value in a packet's data is replaced by
 * `{"_placeholder": true, "num": n}` and travels as the n-th attachment (spec, "Packet encoding").
 */

/** The binary shapes a packet may carry: Node's Buffer, ArrayBuffer, typed arrays and DataView. */
export function isBinary(value: unknown): value is ArrayBuffer | ArrayBufferView {
  return value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

/** A Buffer over the same memory (no copy). */
export function toBuffer(value: ArrayBuffer | ArrayBufferView): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

interface WithToJSON {
  toJSON(): unknown;
}

function hasToJSON(value: object): value is WithToJSON {
  return typeof (value as Partial<WithToJSON>).toJSON === "function";
}

/**
 * Whether `value` holds binary data at any depth (what JSON.stringify would visit). Like
 * JSON.stringify, a `toJSON()` result is not asked for its own `toJSON()` again.
 */
export function hasBinary(value: unknown, fromToJSON = false): boolean {
  if (value === null || typeof value !== "object") return false;
  if (isBinary(value)) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (hasBinary(item)) return true;
    return false;
  }
  if (!fromToJSON && hasToJSON(value)) return hasBinary(value.toJSON(), true);
  for (const key in value) {
    if (Object.hasOwn(value, key) && hasBinary((value as Record<string, unknown>)[key])) return true;
  }
  return false;
}

/** Copies `data` with every binary value replaced by a placeholder; the caller's data is untouched. */
export function deconstructBinary(data: unknown): { data: unknown; attachments: Buffer[] } {
  const attachments: Buffer[] = [];
  const walk = (value: unknown, fromToJSON = false): unknown => {
    if (value === null || typeof value !== "object") return value;
    if (isBinary(value)) {
      attachments.push(toBuffer(value));
      return { _placeholder: true, num: attachments.length - 1 };
    }
    if (Array.isArray(value)) return value.map((item) => walk(item));
    if (!fromToJSON && hasToJSON(value)) return walk(value.toJSON(), true);
    const out: Record<string, unknown> = {};
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      // defineProperty, so a "__proto__" key stays a plain key instead of setting a prototype
      Object.defineProperty(out, key, {
        value: walk((value as Record<string, unknown>)[key]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  };
  return { data: walk(data), attachments };
}

function isPlaceholder(value: object): value is { _placeholder: true; num: unknown } {
  return (value as { _placeholder?: unknown })._placeholder === true;
}

/**
 * Puts the attachments back in place of their placeholders, in place. Returns `undefined` when a
 * placeholder points at no attachment or the data nests too deep to walk.
 */
export function reconstructBinary(data: unknown, buffers: readonly Buffer[]): { value: unknown } | undefined {
  const walk = (value: unknown): unknown => {
    if (value === null || typeof value !== "object") return value;
    if (isPlaceholder(value)) {
      const num = value.num;
      if (typeof num !== "number" || !Number.isInteger(num) || num < 0 || num >= buffers.length) throw INVALID;
      return buffers[num];
    }
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) value[i] = walk(value[i]);
      return value;
    }
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const before = record[key];
      const after = walk(before);
      if (after !== before) {
        Object.defineProperty(record, key, { value: after, enumerable: true, writable: true, configurable: true });
      }
    }
    return value;
  };
  try {
    return { value: walk(data) };
  } catch (err) {
    // INVALID, or a RangeError from data nested deeper than the stack allows
    if (err === INVALID || err instanceof RangeError) return undefined;
    throw err;
  }
}

const INVALID = new Error("invalid placeholder");
