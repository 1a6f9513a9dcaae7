import type { Duplex } from "node:stream";
import { WebSocket } from "ws";
import { decodeFrame, encodeFrame } from "../../protocol/engine-packet.js";
import type { CloseMode, QueuedPacket, Transport, TransportHandler } from "../transport.js";

const NO_HANDLER: TransportHandler = {
  onPacket() {},
  onParseError() {},
  onTransportError() {},
  onTransportClose() {},
  onWritable() {},
};

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
    ws.on("message", (data, isBinary) => this.#onMessage(data, isBinary));
    ws.on("error", (err) => {
      this.#closed = true;
      this.handler.onTransportError(err.message);
    });
    ws.on("close", (code) => {
      this.#closed = true;
      this.handler.onTransportClose(`websocket closed with code ${code}`);
    });
  }

  get writable(): boolean {
    return !this.#closed && this.#ws.readyState === WebSocket.OPEN;
  }

  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  #onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    const buffer = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? Buffer.from(data) : data;
    const packet = decodeFrame(buffer, isBinary);
    if (packet === undefined) this.handler.onParseError("invalid websocket frame");
    else this.handler.onPacket(packet);
  }

  send(packets: readonly QueuedPacket[]): void {
    const ws = this.#ws;
    const socket = this.#socket;
    socket.cork();
    for (const item of packets) {
      if (item.prepared !== undefined && this.#rawFrames && item.callback === undefined) {
        for (const chunk of item.prepared.webSocketFrame(this.#supportsBinary)) socket.write(chunk);
        continue;
      }
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
