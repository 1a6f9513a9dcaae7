import type { IncomingMessage } from "node:http";
import type { ClockTimer } from "../clock.js";
import { type CloseReason, CloseReasons } from "../errors.js";
import { toBuffer } from "../protocol/binary.js";
import { type EnginePacket, type EnginePacketType, packetByteLength } from "../protocol/engine-packet.js";
import { Deadline, type DeadlineOwner, type DeadlineQueue } from "./deadline-queue.js";
import type { FlushScheduler } from "./flush-scheduler.js";
import { snapshotRequest } from "./handshake-request.js";
import { LazyEmitter } from "./lazy-emitter.js";
import type { ResolvedEngineOptions } from "./options.js";
import { PacketQueue } from "./packet-queue.js";
import type { PreparedMessage } from "./prepared-message.js";
import type { CloseMode, QueuedPacket, Transport, TransportHandler } from "./transport.js";
import { PollingTransport } from "./transports/polling.js";
import type { WebSocketTransport } from "./transports/websocket.js";

export type SessionState = "opening" | "open" | "closing" | "closed";

/** Data a session can send: text, or binary in any of Node's or the web's shapes. */
export type SendData = string | Buffer | ArrayBuffer | ArrayBufferView;

/**
 * What engine.io sends for data that is neither a string nor binary (a JavaScript caller's
 * number, object or null): its string, a falsy value as an empty message.
 */
function asSendData(data: SendData): SendData {
  if (typeof data === "string" || data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data;
  return String((data as unknown) || "");
}

export interface SendOptions {
  /** Allow compression of this packet (polling gzip, WebSocket per-message deflate). Default true. */
  compress?: boolean;
}

/** What a session needs from the server that created it. */
export interface SessionHost {
  readonly opts: ResolvedEngineOptions;
  readonly scheduler: FlushScheduler;
  /** Deadlines `pingInterval` ahead: when each session sends its next ping. */
  readonly pings: DeadlineQueue;
  /** Deadlines `pingTimeout` ahead: when a session that was pinged times out. */
  readonly pongs: DeadlineQueue;
  onSessionClosed(session: EngineSession): void;
}

/**
 * The one consumer a session can have besides its event listeners (the Socket.IO layer's
 * Client): called directly, before the events, so a connection costs no listener closures.
 */
export interface SessionConsumer {
  onSessionData(data: string | Buffer): void;
  onSessionClose(reason: CloseReason, description: string | undefined): void;
}

export interface EngineSessionEvents {
  message: [data: string | Buffer];
  data: [data: string | Buffer];
  packet: [packet: EnginePacket];
  packetCreate: [packet: EnginePacket & { readonly options: { readonly compress: boolean } }];
  flush: [packets: readonly EnginePacket[]];
  drain: [];
  heartbeat: [];
  upgrading: [transport: Transport];
  upgrade: [transport: Transport];
  close: [reason: CloseReason, description?: string];
}

/**
 * One client's Engine.IO session, independent of the transport under it. It owns the outgoing
 * queue (bounded by `maxBufferedBytes`), the heartbeat and the upgrade from polling to WebSocket.
 */
export class EngineSession extends LazyEmitter<EngineSessionEvents> implements TransportHandler, DeadlineOwner {
  readonly id: string;
  readonly protocol = 4;
  /**
   * The handshake request, as a snapshot (see `snapshotRequest`): method, url, headers,
   * socket, and what middlewares set on it.
   */
  readonly request: IncomingMessage;
  /** Gets the session's data and close before the "data" and "close" listeners. */
  consumer: SessionConsumer | undefined;
  readonly remoteAddress: string;
  readyState: SessionState = "opening";
  transport: Transport;
  upgrading = false;
  upgraded = false;

  readonly #host: SessionHost;
  /** Packets waiting for the transport. */
  readonly #queue = new PacketQueue();
  /** The transport's unwritten bytes when the first packet since the last flush was queued. */
  #transportBacklog = 0;
  /** What waited for the client (queued and unwritten bytes) when the first packet since the last flush was queued. */
  #carried = 0;
  #flushScheduled = false;
  /** The heartbeat: in the host's `pings` queue until the next ping, then in `pongs` until the pong. */
  readonly #heartbeat = new Deadline(this);
  #closeTimer: ClockTimer | undefined;
  #upgradeTimer: ClockTimer | undefined;
  #probe: WebSocketTransport | undefined;
  #closeReason: CloseReason | undefined;
  /** close() was called with packets queued on polling: the close packet follows them in the next response. */
  #closeAfterBatch = false;
  /** The pong wait was extended once by a packet from the client since the last ping (engine.io 6.6). */
  #pongWaitExtended = false;

  constructor(id: string, host: SessionHost, transport: Transport, request: IncomingMessage) {
    super();
    this.id = id;
    this.#host = host;
    this.transport = transport;
    transport.handler = this;
    this.request = snapshotRequest(request);
    this.remoteAddress = request.socket.remoteAddress ?? "";
  }

  /** Bytes waiting to reach this client: queued packets plus the socket's unwritten bytes. */
  get bufferedBytes(): number {
    return this.#queue.bytes + this.transport.bufferedAmount;
  }

  /** Sends the open packet and starts the heartbeat. Called once by the server. */
  open(upgrades: readonly string[]): void {
    const opts = this.#host.opts;
    this.readyState = "open";
    this.#enqueue(
      {
        type: "open",
        data: JSON.stringify({
          sid: this.id,
          upgrades,
          pingInterval: opts.pingInterval,
          pingTimeout: opts.pingTimeout,
          maxPayload: opts.maxHttpBufferSize,
        }),
      },
      false,
      undefined,
    );
    this.#schedulePing();
  }

  /** Sends a message packet. Dropped if the session is closing or closed. */
  send(data: SendData, callback?: () => void): this;
  send(data: SendData, options?: SendOptions, callback?: () => void): this;
  send(data: SendData, options?: SendOptions | (() => void), callback?: () => void): this {
    const message = asSendData(data);
    // engine.io's (data, callback) form
    if (typeof options === "function") this.#sendPacket("message", message, undefined, options);
    else this.#sendPacket("message", message, options, callback);
    return this;
  }

  /** Alias of `send`, as in engine.io. */
  write(data: SendData, callback?: () => void): this;
  write(data: SendData, options?: SendOptions, callback?: () => void): this;
  write(data: SendData, options?: SendOptions | (() => void), callback?: () => void): this {
    return typeof options === "function" ? this.send(data, options) : this.send(data, options, callback);
  }

  /** Sends a message encoded once for many sessions; its wire forms are shared. */
  sendPrepared(prepared: PreparedMessage, options?: SendOptions): this {
    if (this.readyState !== "open" && this.readyState !== "opening") return this;
    this.#push(
      options?.compress === false
        ? { packet: prepared.packet, size: prepared.size, compress: false, prepared }
        : prepared,
    );
    return this;
  }

  /**
   * Whether a packet sent now would be written at once: the transport can write, and nothing is
   * waiting before it. A volatile packet is sent only then, as socket.io does.
   */
  get volatileWritable(): boolean {
    return (
      this.readyState === "open" &&
      this.#queue.length === 0 &&
      this.transport.writable &&
      this.transport.bufferedAmount === 0
    );
  }

  #sendPacket(type: EnginePacketType, data?: SendData, options?: SendOptions, callback?: () => void): void {
    if (this.readyState !== "open" && this.readyState !== "opening") return;
    const packet: EnginePacket =
      data === undefined ? { type } : { type, data: typeof data === "string" ? data : toBuffer(data) };
    this.#enqueue(packet, options?.compress !== false, callback);
  }

  #enqueue(packet: EnginePacket, compress: boolean, callback: (() => void) | undefined): void {
    this.#push({ packet, size: packetByteLength(packet), compress, callback });
  }

  #push(item: QueuedPacket): void {
    const size = item.size;
    // The transport's unwritten bytes are read once per turn, with the first packet queued since
    // the last flush: until the next flush nothing more is written, so the figure can only have
    // shrunk since, and the check stays on the safe side. A read per packet was a measured share
    // of a broadcast's cost.
    if (!this.#flushScheduled) {
      this.#transportBacklog = this.transport.bufferedAmount;
      this.#carried = this.#queue.bytes + this.#transportBacklog;
    }
    const backlog = this.#queue.bytes + this.#transportBacklog;
    // Every packet counts at its full size, shared broadcast frames included: the limit is how far
    // behind a client may fall. What the app queues in one go for a client with nothing waiting
    // always goes (a burst or a recovery replay larger than the limit is not refused on its size
    // alone: the client has not yet had a chance to read it); a packet queued while an earlier
    // turn's backlog still waits, and would take it past the limit, closes the session.
    if (this.#carried > 0 && backlog + size > this.#host.opts.maxBufferedBytes) {
      this.#onClose(CloseReasons.SLOW_CONSUMER, `more than ${this.#host.opts.maxBufferedBytes} bytes buffered`);
      return;
    }
    // engine.io's packet shape, options included (only built when someone listens)
    if (this.hasListeners("packetCreate")) {
      this.emit("packetCreate", { ...item.packet, options: { compress: item.compress } });
    }
    this.#queue.push(item);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      this.#host.scheduler.schedule(this);
    }
  }

  /**
   * Writes the queue to the transport while it can take it. Called once per event-loop turn with
   * something queued, and again each time the transport becomes writable.
   *
   * The transport gets batches of at most its `batchBytes` (one write of one buffer each for a
   * WebSocket) and no more once it reports it cannot take more (a socket waiting for "drain", a
   * poll answered): the rest stays queued here as references to the shared broadcast frames, so a
   * burst to many clients holds one copy of each frame, not one per recipient, and a client that
   * does not read holds only its socket's batch on top.
   */
  flush(): void {
    this.#flushScheduled = false;
    if (this.#closeAfterBatch && this.#queue.length > 0 && !(this.transport instanceof PollingTransport)) {
      // upgraded meanwhile: the close packet follows the queue on the WebSocket
      this.#closeAfterBatch = false;
      this.#pushClose();
    }
    let sent = false;
    while (this.readyState !== "closed" && this.#queue.length > 0 && this.transport.writable) {
      const batch = this.#queue.take(this.transport.batchBytes);
      // before the batch is written, as engine.io does: a listener that throws leaves it queued,
      // and the flush is tried again next turn
      if (this.hasListeners("flush")) {
        try {
          this.emit(
            "flush",
            batch.map((q) => q.packet),
          );
        } catch (err) {
          this.#queue.restore(batch);
          this.#flushScheduled = true;
          this.#host.scheduler.schedule(this);
          throw err;
        }
      }
      this.transport.send(batch);
      sent = true;
    }
    if (!sent || this.#queue.length > 0) return;
    if (this.#closeAfterBatch) {
      this.#closeAfterBatch = false;
      this.#pushClose(); // goes out with the next poll
    }
    if (this.hasListeners("drain")) this.emit("drain");
  }

  /**
   * Closes the session from the server side: what is queued is still delivered, then a close
   * packet, then the transport is closed. Reason "forced close".
   */
  close(): void {
    if (this.readyState !== "open" && this.readyState !== "opening") return;
    this.readyState = "closing";
    this.#closeReason = CloseReasons.FORCED_CLOSE;
    this.#heartbeat.cancel();
    // Over polling, the close packet waits for the next response: socket.io-client acts on a
    // close at once but on the packets decoded with it a tick later, so they would be lost.
    if (this.#queue.length > 0 && this.transport instanceof PollingTransport) this.#closeAfterBatch = true;
    else this.#pushClose();
    // A polling client that never polls again must not hold the session forever.
    this.#closeTimer = this.#host.opts.clock.setTimeout(
      () => this.#onClose(CloseReasons.FORCED_CLOSE),
      this.#host.opts.pingTimeout,
    );
    this.flush();
  }

  #pushClose(): void {
    // engine.io's wire form when no poll is waiting: the next poll gets a noop, then the close
    if (this.transport instanceof PollingTransport && !this.transport.writable) {
      this.#queue.push({ packet: { type: "noop" }, size: 1, compress: false });
    }
    this.#queue.push({
      packet: { type: "close" },
      size: 1,
      compress: false,
      callback: () => this.#onClose(CloseReasons.FORCED_CLOSE),
    });
  }

  /** Ends the session now, writing what the transport can take at once. Used on server shutdown. */
  terminate(reason: CloseReason): void {
    if (this.readyState === "closed") return;
    if (this.transport.writable) {
      this.#queue.push({ packet: { type: "close" }, size: 1, compress: false });
      this.flush();
    }
    this.#onClose(reason, undefined, "server");
  }

  // ---- TransportHandler: events from the active transport ----

  onPacket(packet: EnginePacket): void {
    // Once the server has begun closing, nothing more from the client is delivered.
    if (this.readyState !== "open") return;
    if (this.hasListeners("packet")) this.emit("packet", packet);
    // A busy client's pong may queue behind its own uploads: the first other packet while a
    // pong is awaited gives the wait a fresh pingTimeout, once per ping, as engine.io 6.6 does.
    if (packet.type !== "pong" && !this.#pongWaitExtended && this.#heartbeat.queue === this.#host.pongs) {
      this.#pongWaitExtended = true;
      this.#host.pongs.start(this.#heartbeat);
    }
    switch (packet.type) {
      case "message": {
        const data = packet.data ?? "";
        this.consumer?.onSessionData(data);
        this.emit("data", data);
        this.emit("message", data);
        break;
      }
      case "pong":
        this.#onPong();
        break;
      case "close":
        this.#onClose(CloseReasons.TRANSPORT_CLOSE, "client sent a close packet", "client");
        break;
      case "ping":
        // v4 reversed the heartbeat: only the server pings (spec, "From v3 to v4").
        this.#onClose(CloseReasons.TRANSPORT_ERROR, "invalid heartbeat direction", "error");
        break;
      default:
      // noop, and open or upgrade outside an upgrade: valid packets with nothing to do, ignored as engine.io does
    }
  }

  onParseError(description: string): void {
    this.#onClose(CloseReasons.PARSE_ERROR, description, "error");
  }

  onTransportError(description: string): void {
    this.#onClose(CloseReasons.TRANSPORT_ERROR, description, "error");
  }

  onTransportClose(description: string): void {
    this.#onClose(this.#closeReason ?? CloseReasons.TRANSPORT_CLOSE, description, "client");
  }

  onWritable(): void {
    this.flush();
  }

  // ---- heartbeat ----

  #schedulePing(): void {
    this.#host.pings.start(this.#heartbeat);
  }

  /** @internal the heartbeat's deadline expired: time to ping, or the pong is overdue. */
  onDeadline(queue: DeadlineQueue): void {
    if (queue === this.#host.pings) {
      this.#pongWaitExtended = false;
      this.#sendPacket("ping");
      // sending may have closed the session (slow consumer)
      if (this.readyState === "open") this.#host.pongs.start(this.#heartbeat);
      return;
    }
    this.#onClose(CloseReasons.PING_TIMEOUT, `no pong within ${this.#host.opts.pingTimeout} ms`, "error");
  }

  #onPong(): void {
    if (this.#heartbeat.queue !== this.#host.pongs) return;
    this.#schedulePing();
    this.emit("heartbeat");
  }

  // ---- upgrade from polling to WebSocket ----

  /** Whether a WebSocket may take over this session now. */
  canUpgrade(): boolean {
    return (
      this.readyState === "open" && !this.upgrading && !this.upgraded && this.transport instanceof PollingTransport
    );
  }

  /** Starts the probe: the client pings "probe" on the new WebSocket, then sends "upgrade". */
  upgradeTo(probe: WebSocketTransport): void {
    if (!this.canUpgrade()) {
      probe.close("server");
      return;
    }
    const polling = this.transport as PollingTransport;
    this.upgrading = true;
    this.#probe = probe;
    const cancel = (): void => {
      if (this.#probe !== probe) return;
      this.#probe = undefined;
      this.upgrading = false;
      this.#host.opts.clock.clearTimeout(this.#upgradeTimer);
      probe.close("error");
      polling.resume();
      if (this.readyState === "open") this.flush();
    };
    this.#upgradeTimer = this.#host.opts.clock.setTimeout(cancel, this.#host.opts.upgradeTimeout);
    let probed = false;
    probe.handler = {
      onPacket: (packet) => {
        if (packet.type === "ping" && packet.data === "probe" && !probed) {
          probed = true;
          probe.send([{ packet: { type: "pong", data: "probe" }, size: 6, compress: false }]);
          polling.pause();
          this.emit("upgrading", probe);
        } else if (packet.type === "upgrade" && this.readyState !== "closed") {
          this.#completeUpgrade(probe, polling);
        } else {
          cancel();
        }
      },
      onParseError: cancel,
      onTransportError: cancel,
      onTransportClose: cancel,
      onWritable: () => {},
    };
  }

  #completeUpgrade(probe: WebSocketTransport, polling: PollingTransport): void {
    this.#host.opts.clock.clearTimeout(this.#upgradeTimer);
    this.#probe = undefined;
    this.upgrading = false;
    this.upgraded = true;
    polling.close("client");
    this.transport = probe;
    probe.handler = this;
    this.emit("upgrade", probe);
    // Whatever was queued during the probe, a pending close packet included, goes out on the WebSocket.
    this.flush();
  }

  // ---- closing ----

  #onClose(reason: CloseReason, description?: string, mode: CloseMode = "server"): void {
    if (this.readyState === "closed") return;
    this.readyState = "closed";
    this.#heartbeat.cancel();
    this.#host.opts.clock.clearTimeout(this.#closeTimer);
    this.#host.opts.clock.clearTimeout(this.#upgradeTimer);
    if (this.#probe) {
      this.#probe.close("error");
      this.#probe = undefined;
    }
    this.upgrading = false;
    this.transport.close(mode);
    this.#queue.clear();
    this.#host.onSessionClosed(this);
    this.consumer?.onSessionClose(reason, description);
    this.emit("close", reason, description);
  }
}
