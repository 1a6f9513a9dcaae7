import type { Duplex } from "node:stream";
import { type RawData, WebSocket } from "ws";
import { decodeFrame, encodeFrame } from "../../protocol/engine-packet.js";
import { frameOf } from "../prepared-message.js";
import type { CloseMode, QueuedPacket, Transport, TransportHandler } from "../transport.js";

const NO_HANDLER: TransportHandler = {
  onPacket() {},
  onParseError() {},
  onTransportError() {},
  onTransportClose() {},
  onWritable() {},
};

const TRANSPORT = Symbol("tutti.transport");

/**
 * The most bytes of frames the session hands over at once: a larger burst reaches the socket in
 * batches of this size as the socket takes them, the rest waiting in the session's queue as
 * references to the frames all recipients share.
 */
const BATCH_BYTES = 64 * 1024;

/**
 * Up to this many bytes, a batch's frames are copied into one buffer for one plain write: a
 * turn's few frames cost less that way than a writev (measured in bench/ fan-out and echo).
 * Past it they go to the socket as they are, in one writev under a cork: a copy per recipient of
 * a burst's shared frames was most of what a burst to many clients cost in memory.
 */
const COPY_LIMIT = 16 * 1024;

type OwnedWebSocket = WebSocket & { [TRANSPORT]: WebSocketTransport };
type OwnedSocket = Duplex & { [TRANSPORT]: WebSocketTransport };

// One set of listener functions for every connection, finding their transport on the socket:
// per-connection closures were a measurable share of an idle connection's heap.
function onWsMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  (this as OwnedWebSocket)[TRANSPORT].onMessage(data, isBinary);
}

function onWsError(this: WebSocket, err: Error): void {
  (this as OwnedWebSocket)[TRANSPORT].onError(err);
}

function onWsClose(this: WebSocket, code: number): void {
  (this as OwnedWebSocket)[TRANSPORT].onClose(code);
}

function onSocketDrain(this: Duplex): void {
  (this as OwnedSocket)[TRANSPORT].handler.onWritable();
}

/**
 * The WebSocket transport: one Engine.IO packet per frame, binary frames for binary messages.
 * Frames queued in one event-loop turn are written in one write per socket. It is writable until
 * the socket holds a write's worth it could not hand to the kernel, and again on the socket's
 * "drain".
 */
export class WebSocketTransport implements Transport {
  readonly name = "websocket" as const;
  readonly batchBytes = BATCH_BYTES;
  handler: TransportHandler = NO_HANDLER;
  readonly #ws: WebSocket;
  /** The raw socket we handed to `ws` on upgrade; ours to cork. */
  readonly #socket: Duplex;
  readonly #supportsBinary: boolean;
  /**
   * With no extension negotiated (no per-message deflate), ws frames and writes synchronously,
   * so a prepared frame can go straight to the socket between ws's own writes without
   * reordering anything.
   */
  readonly #rawFrames: boolean;
  #closed = false;
  /** With per-message deflate: a batch is with ws, being compressed, and not yet on the socket. */
  #compressing = false;

  constructor(ws: WebSocket, socket: Duplex, supportsBinary: boolean) {
    this.#ws = ws;
    this.#socket = socket;
    this.#supportsBinary = supportsBinary;
    this.#rawFrames = ws.extensions === "";
    (ws as OwnedWebSocket)[TRANSPORT] = this;
    (socket as OwnedSocket)[TRANSPORT] = this;
    socket.on("drain", onSocketDrain);
    ws.on("message", onWsMessage);
    ws.on("error", onWsError);
    ws.on("close", onWsClose);
  }

  /** @internal ws's "error" */
  onError(err: Error): void {
    this.#closed = true;
    this.handler.onTransportError(err.message);
  }

  /** @internal ws's "close" */
  onClose(code: number): void {
    this.#closed = true;
    this.handler.onTransportClose(`websocket closed with code ${code}`);
  }

  get writable(): boolean {
    // Node's own signal that the socket holds a high-water mark's worth: "drain" follows.
    return (
      !this.#closed && this.#ws.readyState === WebSocket.OPEN && !this.#socket.writableNeedDrain && !this.#compressing
    );
  }

  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  /** @internal ws's "message" */
  onMessage(data: RawData, isBinary: boolean): void {
    const buffer = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? Buffer.from(data) : data;
    const packet = decodeFrame(buffer, isBinary);
    if (packet === undefined) this.handler.onParseError("invalid websocket frame");
    else this.handler.onPacket(packet);
  }

  send(packets: readonly QueuedPacket[]): void {
    if (this.#rawFrames) this.#sendRaw(packets);
    else this.#sendThroughWs(packets);
  }

  /**
   * No extension negotiated: ws frames synchronously and queues nothing, so our frames may go
   * straight to the socket. A batch of up to `COPY_LIMIT` bytes (shared broadcast frames, and
   * frames built here by ws's own `Sender.frame`) goes out as one buffer in one plain write:
   * cheaper than ws.send per packet under a cork, which ends in a writev of two entries per
   * packet (measured in bench/ fan-out and echo). A larger one goes as it is, in one writev.
   */
  #sendRaw(packets: readonly QueuedPacket[]): void {
    const socket = this.#socket;
    const chunks: Buffer[] = [];
    let bytes = 0;
    let callbacks: (() => void)[] | undefined;
    for (const item of packets) {
      const frame =
        item.prepared !== undefined
          ? item.prepared.webSocketFrame(this.#supportsBinary)
          : frameOf(encodeFrame(item.packet, this.#supportsBinary));
      for (const chunk of frame) {
        chunks.push(chunk);
        bytes += chunk.length;
      }
      if (item.callback !== undefined) {
        callbacks ??= [];
        callbacks.push(item.callback);
      }
    }
    const done =
      callbacks === undefined
        ? undefined
        : () => {
            for (const callback of callbacks) callback();
          };
    if (chunks.length === 1) socket.write(chunks[0] as Buffer, done);
    else if (bytes <= COPY_LIMIT) socket.write(Buffer.concat(chunks, bytes), done);
    else {
      socket.cork();
      for (let i = 0; i < chunks.length; i++)
        socket.write(chunks[i] as Buffer, i === chunks.length - 1 ? done : undefined);
      socket.uncork();
    }
  }

  /**
   * With per-message deflate, ws compresses and orders frames itself, asynchronously: the
   * transport takes no further batch until ws has written this one, so a burst waits in the
   * session's queue rather than in ws's.
   */
  #sendThroughWs(packets: readonly QueuedPacket[]): void {
    const ws = this.#ws;
    const socket = this.#socket;
    this.#compressing = true;
    socket.cork();
    for (let i = 0; i < packets.length; i++) {
      const item = packets[i] as QueuedPacket;
      const frame = encodeFrame(item.packet, this.#supportsBinary);
      const binary = typeof frame !== "string";
      const cb = item.callback;
      if (i === packets.length - 1) {
        ws.send(frame, { binary, compress: item.compress }, () => {
          cb?.();
          this.#compressing = false;
          this.handler.onWritable();
        });
      } else if (cb) {
        ws.send(frame, { binary, compress: item.compress }, () => cb());
      } else {
        ws.send(frame, { binary, compress: item.compress });
      }
    }
    socket.uncork();
  }

  close(mode: CloseMode): void {
    if (this.#closed) return;
    this.#closed = true;
    this.handler = NO_HANDLER;
    if (mode === "error") this.#ws.terminate();
    else this.#ws.close(1000);
  }
}
