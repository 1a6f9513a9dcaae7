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
  /** The chunk read from, at `#head`; while the queue fits in one chunk, also the one written to. */
  #first: QueuedPacket[] = [];
  /** Further chunks, oldest first, once the queue outgrows one (the last is written to): a
   * session's usual queue, a turn's few packets, costs no array of chunks. */
  #rest: QueuedPacket[][] | undefined;
  #head = 0;
  #length = 0;
  /** Bytes of the packets queued, counted against the session's buffer limit. */
  bytes = 0;

  get length(): number {
    return this.#length;
  }

  push(item: QueuedPacket): void {
    const rest = this.#rest;
    if (rest === undefined) {
      if (this.#first.length < CHUNK) this.#first.push(item);
      else this.#rest = [[item]];
    } else {
      const last = rest[rest.length - 1] as QueuedPacket[];
      if (last.length < CHUNK) last.push(item);
      else rest.push([item]);
    }
    this.#length++;
    this.bytes += item.size;
  }

  /** Removes and returns the packets at the head: at least one, then as many as fit in `maxBytes`. */
  take(maxBytes: number): QueuedPacket[] {
    if (this.#rest === undefined && this.#head === 0 && this.bytes <= maxBytes) {
      // the common case, a turn's few packets: the chunk itself is the batch
      const all = this.#first;
      this.#first = [];
      this.#length = 0;
      this.bytes = 0;
      return all;
    }
    const batch: QueuedPacket[] = [];
    let taken = 0;
    while (this.#length > 0) {
      const item = this.#first[this.#head] as QueuedPacket;
      if (batch.length > 0 && taken + item.size > maxBytes) break;
      batch.push(item);
      taken += item.size;
      this.#length--;
      if (++this.#head === this.#first.length) {
        this.#head = 0;
        const next = this.#rest?.shift();
        if (this.#rest?.length === 0) this.#rest = undefined;
        this.#first = next ?? [];
      }
    }
    this.bytes -= taken;
    return batch;
  }

  /** Puts a batch that `take` returned back at the head, as if it had not been taken. */
  restore(batch: QueuedPacket[]): void {
    if (batch.length === 0) return;
    const remaining = this.#first.slice(this.#head);
    this.#head = 0;
    if (remaining.length > 0) this.#rest = [remaining, ...(this.#rest ?? [])];
    this.#first = batch;
    this.#length += batch.length;
    for (const item of batch) this.bytes += item.size;
  }

  clear(): void {
    this.#first = [];
    this.#rest = undefined;
    this.#head = 0;
    this.#length = 0;
    this.bytes = 0;
  }
}
