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

/** Past this many bytes in one turn, frames are written as they are rather than copied into one buffer. */
const COPY_LIMIT = 64 * 1024;

type OwnedWebSocket = WebSocket & { [TRANSPORT]: WebSocketTransport };

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

/**
 * The WebSocket transport: one Engine.IO packet per frame, binary frames for binary messages.
 * Frames queued in one event-loop turn are written under one cork, so the kernel sees a single
 * writev per socket per turn.
 */
export class WebSocketTransport implements Transport {
  readonly name = "websocket" as const;
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

  constructor(ws: WebSocket, socket: Duplex, supportsBinary: boolean) {
    this.#ws = ws;
    this.#socket = socket;
    this.#supportsBinary = supportsBinary;
    this.#rawFrames = ws.extensions === "";
    (ws as OwnedWebSocket)[TRANSPORT] = this;
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
    return !this.#closed && this.#ws.readyState === WebSocket.OPEN;
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
   * straight to the socket. Everything queued for this socket this turn (shared broadcast
   * frames, and frames built here by ws's own `Sender.frame`) goes out as one buffer in one
   * plain write: cheaper than ws.send per packet under a cork, which ends in a writev of two
   * entries per packet (measured in bench/ fan-out and echo).
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
      // large frames: not worth a copy; one writev under a cork
      socket.cork();
      for (let i = 0; i < chunks.length; i++)
        socket.write(chunks[i] as Buffer, i === chunks.length - 1 ? done : undefined);
      socket.uncork();
    }
  }

  /** With per-message deflate, ws compresses and orders frames itself. */
  #sendThroughWs(packets: readonly QueuedPacket[]): void {
    const ws = this.#ws;
    const socket = this.#socket;
    socket.cork();
    for (const item of packets) {
      const frame = encodeFrame(item.packet, this.#supportsBinary);
      const binary = typeof frame !== "string";
      if (item.callback) {
        const cb = item.callback;
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
