import type { Duplex } from "node:stream";

/** A socket plus the writer's bookkeeping; the connection object itself fills this shape. */
export interface Corkable {
  readonly socket: Duplex;
  corked: boolean;
}

/**
 * Writes ready-made frames and coalesces them: the first write to a socket in an event-loop turn
 * corks it, and one setImmediate per turn uncorks every socket written, so N frames to one socket
 * in a turn leave in a single writev. This is the same policy Tutti's flush scheduler uses,
 * written with nothing between the app and the socket: the practical limit of the design.
 * Measured against writing each frame at once, and against writing the first frame of a turn at
 * once and corking only from the second: it is as cheap when there is nothing to coalesce and
 * the cheapest when there is (bench/README.md, "How the raw server writes").
 */
export class CoalescingWriter {
  #corked: Corkable[] = [];
  #armed = false;

  write(target: Corkable, frame: Buffer): void {
    if (!target.corked) {
      target.corked = true;
      target.socket.cork();
      this.#corked.push(target);
      if (!this.#armed) {
        this.#armed = true;
        setImmediate(this.#flush);
      }
    }
    target.socket.write(frame);
  }

  #flush = (): void => {
    this.#armed = false;
    const corked = this.#corked;
    this.#corked = [];
    for (const target of corked) {
      target.corked = false;
      target.socket.uncork();
    }
  };
}
