import { ReplyError } from "ioredis";
import type { Clock, ClockTimer } from "tutti";

/** Bounds of the queue that holds publishes while Redis is unreachable. */
export interface PublishQueueOptions {
  /** Most messages waiting at once (default 10,000); past it `publish` rejects at once. */
  readonly messages?: number;
  /** Longest a message waits (default 5000 ms); older ones are rejected. */
  readonly ms?: number;
}

/** One command the gate sends in order: a stored publish (`settle` set) or an ephemeral one. */
export interface GateJob {
  /** Call order: a job that lost its connection goes back before every later one. */
  readonly order: number;
  /** Sends the command; resolves with its reply. */
  send(): Promise<unknown>;
  /** A stored publish's outcome; undefined for best-effort (ephemeral) messages. */
  readonly settle?: ((error: Error | undefined, reply?: unknown) => void) | undefined;
  /** When it was first submitted (clock ms). */
  since: number;
}

interface Connection {
  readonly status: string;
  on(event: "ready", listener: () => void): unknown;
  off(event: "ready", listener: () => void): unknown;
}

/**
 * Sends publishes in call order while the command connection is ready, and holds them in a
 * bounded queue while it is not, so that ioredis never queues the publish path without bound
 * (its offline queue is the app's client's business). A publish whose connection dropped before
 * its reply came is sent again: the publish script recognises a resend and does not store it
 * twice. Ephemeral messages wait behind queued publishes to keep their order, and are dropped
 * while Redis is down.
 */
export class PublishGate {
  private readonly queue: GateJob[] = [];
  private readonly maxMessages: number;
  private readonly maxWait: number;
  private expiry: ClockTimer | undefined;
  private drainPending = false;
  private closed = false;
  private readonly onReady = () => {
    // after the current turn: ioredis rejects the commands it will not resend right after
    // `ready`, and those must go back into the queue before it drains
    if (this.drainPending) return;
    this.drainPending = true;
    setImmediate(() => {
      this.drainPending = false;
      this.drain();
    });
  };

  constructor(
    private readonly connection: Connection,
    options: PublishQueueOptions | undefined,
    private readonly clock: Clock,
    private readonly report: (error: Error) => void,
  ) {
    this.maxMessages = positive(options?.messages ?? 10_000, "publishQueue.messages");
    this.maxWait = positive(options?.ms ?? 5000, "publishQueue.ms");
    connection.on("ready", this.onReady);
  }

  get queued(): number {
    return this.queue.length;
  }

  submit(job: GateJob): void {
    if (this.closed) {
      job.settle?.(new Error("@tutti/redis: the broker is closed"));
      return;
    }
    if (this.queue.length === 0 && this.open()) {
      this.send(job);
      return;
    }
    if (job.settle === undefined && !this.open()) return; // best effort: Redis is down
    if (this.queue.length >= this.maxMessages) {
      const error = new Error(
        `@tutti/redis: publish rejected, Redis unreachable and the publish queue is full (${this.queue.length} of ${this.maxMessages} messages waiting)`,
      );
      job.settle?.(error);
      this.report(error);
      return;
    }
    this.insert(job);
  }

  /** Rejects what waits and sends nothing more. */
  close(): void {
    this.closed = true;
    this.connection.off("ready", this.onReady);
    this.clock.clearTimeout(this.expiry);
    this.expiry = undefined;
    const error = new Error("@tutti/redis: the broker is closed");
    for (const job of this.queue.splice(0)) job.settle?.(error);
  }

  private open(): boolean {
    return this.connection.status === "ready";
  }

  private send(job: GateJob): void {
    job.send().then(
      (reply) => job.settle?.(undefined, reply),
      (error: unknown) => {
        if (error instanceof ReplyError || this.closed) {
          const failure = error instanceof Error ? error : new Error(String(error));
          if (job.settle !== undefined) {
            job.settle(failure);
            this.report(failure);
          }
          return;
        }
        // the connection went away before the reply: send it again when Redis is back
        if (job.settle !== undefined) this.insert(job);
        if (this.open()) this.onReady();
      },
    );
  }

  private insert(job: GateJob): void {
    let at = this.queue.length;
    while (at > 0 && (this.queue[at - 1] as GateJob).order > job.order) at--;
    this.queue.splice(at, 0, job);
    this.armExpiry();
  }

  private drain(): void {
    while (this.queue.length > 0 && this.open() && !this.closed) this.send(this.queue.shift() as GateJob);
    if (this.queue.length === 0) {
      this.clock.clearTimeout(this.expiry);
      this.expiry = undefined;
    }
  }

  private armExpiry(): void {
    if (this.expiry !== undefined) return;
    const oldest = this.queue.reduce((min, job) => Math.min(min, job.since), Number.POSITIVE_INFINITY);
    if (oldest === Number.POSITIVE_INFINITY) return;
    this.expiry = this.clock.setTimeout(
      () => {
        this.expiry = undefined;
        this.expire();
      },
      Math.max(0, oldest + this.maxWait - this.clock.now()),
    );
  }

  private expire(): void {
    const limit = this.clock.now() - this.maxWait;
    const kept: GateJob[] = [];
    let dropped = 0;
    const error = new Error(
      `@tutti/redis: publish rejected, Redis unreachable for longer than the publish queue's ${this.maxWait} ms`,
    );
    for (const job of this.queue.splice(0)) {
      if (job.since <= limit) {
        if (job.settle !== undefined) dropped++;
        job.settle?.(error);
      } else kept.push(job);
    }
    this.queue.push(...kept);
    if (dropped > 0) {
      this.report(
        new Error(
          `@tutti/redis: ${dropped} publishes dropped after waiting ${this.maxWait} ms for Redis (${kept.length} still queued)`,
        ),
      );
    }
    this.armExpiry();
  }
}

function positive(value: number, name: string): number {
  if (!(value > 0) || !Number.isFinite(value)) throw new RangeError(`@tutti/redis: ${name} must be a positive number`);
  return value;
}
