import type { QueuedPacket } from "./transport.js";

/**
 * Entries per chunk. A burst of 20,000 broadcasts to 100 clients queues two million entries:
 * in chunks, a queue grows without copying itself (a growing array is reallocated about twenty
 * times on the way to 20,000, each copy left to the collector) and gives memory back chunk by
 * chunk as it drains.
 */
const CHUNK = 1024;

/** A session's outgoing packets, first in first out, with their byte count. */
export class PacketQueue {
  /** The first chunk is read from `#head`; only the last is written to. */
  #chunks: QueuedPacket[][] = [[]];
  #head = 0;
  #length = 0;
  /** Bytes of the packets queued, counted against the session's buffer limit. */
  bytes = 0;

  get length(): number {
    return this.#length;
  }

  push(item: QueuedPacket): void {
    let last = this.#chunks[this.#chunks.length - 1] as QueuedPacket[];
    if (last.length >= CHUNK) {
      last = [];
      this.#chunks.push(last);
    }
    last.push(item);
    this.#length++;
    this.bytes += item.size;
  }

  /** Removes and returns the packets at the head: at least one, then as many as fit in `maxBytes`. */
  take(maxBytes: number): QueuedPacket[] {
    const first = this.#chunks[0] as QueuedPacket[];
    if (this.#chunks.length === 1 && this.#head === 0 && this.bytes <= maxBytes) {
      // the common case, a turn's few packets: the chunk itself is the batch
      this.#chunks[0] = [];
      this.#length = 0;
      this.bytes = 0;
      return first;
    }
    const batch: QueuedPacket[] = [];
    let taken = 0;
    while (this.#length > 0) {
      const chunk = this.#chunks[0] as QueuedPacket[];
      const item = chunk[this.#head] as QueuedPacket;
      if (batch.length > 0 && taken + item.size > maxBytes) break;
      batch.push(item);
      taken += item.size;
      this.#length--;
      if (++this.#head === chunk.length) {
        if (this.#chunks.length > 1) this.#chunks.shift();
        else this.#chunks[0] = [];
        this.#head = 0;
      }
    }
    this.bytes -= taken;
    return batch;
  }

  /** Puts a batch that `take` returned back at the head, as if it had not been taken. */
  restore(batch: QueuedPacket[]): void {
    if (batch.length === 0) return;
    this.#chunks[0] = (this.#chunks[0] as QueuedPacket[]).slice(this.#head);
    this.#head = 0;
    if ((this.#chunks[0] as QueuedPacket[]).length === 0) this.#chunks[0] = batch;
    else this.#chunks.unshift(batch);
    this.#length += batch.length;
    for (const item of batch) this.bytes += item.size;
  }

  clear(): void {
    this.#chunks = [[]];
    this.#head = 0;
    this.#length = 0;
    this.bytes = 0;
  }
}
