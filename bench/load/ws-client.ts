import { type NetConnectOpts, connect as netConnect, type Socket } from "node:net";
import { WebSocket } from "ws";
import { readStamp } from "../lib/clock.js";
import { AckTable, encodeEvent, type LoadClient, MSG_PREFIX, readAckId } from "./load-client.js";

const PREFIX = Buffer.from(MSG_PREFIX);
const CHAR = { open: 0x30, close: 0x31, ping: 0x32, message: 0x34, connect: 0x30, event: 0x32, ack: 0x33, error: 0x34 };

/** Engine.IO v4 + Socket.IO v5 over a raw `ws` WebSocket, straight to the websocket transport. */
export class WsClient implements LoadClient {
  received = 0;
  onMsg: (stamp: number) => void = () => {};
  onLost: (reason: string) => void = () => {};
  readonly #url: string;
  readonly #acks = new AckTable();
  #ws: WebSocket | undefined;
  #tcp: Socket | undefined;
  #closing = false;

  constructor(port: number) {
    this.#url = `ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`;
  }

  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      // No compression and no UTF-8 check on what the servers send: the client side stays light.
      const ws = new WebSocket(this.#url, {
        perMessageDeflate: false,
        skipUTF8Validation: true,
        // the TCP socket, kept so that `stall` can pause it
        createConnection: (opts: object) => {
          this.#tcp = netConnect(opts as NetConnectOpts);
          return this.#tcp;
        },
      });
      this.#ws = ws;
      let connected = false;
      ws.on("message", (data: Buffer) => {
        const type = data[0];
        if (type === CHAR.message) {
          const sub = data[1];
          if (sub === CHAR.event) {
            if (data.compare(PREFIX, 0, PREFIX.length, 0, PREFIX.length) === 0) {
              this.received++;
              this.onMsg(readStamp(data, PREFIX.length));
            }
          } else if (sub === CHAR.ack) {
            this.#acks.settle(readAckId(data, 2));
          } else if (sub === CHAR.connect) {
            connected = true;
            resolve();
          } else if (sub === CHAR.error) {
            reject(new Error(`connect error: ${data.toString()}`));
            ws.terminate();
          }
        } else if (type === CHAR.ping) {
          ws.send("3");
        } else if (type === CHAR.open) {
          ws.send("40");
        } else if (type === CHAR.close) {
          ws.terminate();
        }
      });
      ws.on("error", (err) => {
        if (!connected) reject(err);
      });
      ws.on("close", (code) => {
        if (!connected) reject(new Error(`closed before connect (${code})`));
        else if (!this.#closing) this.onLost(`closed ${code}`);
      });
    });
  }

  emit(event: string, args: readonly unknown[], ack?: () => void): void {
    this.#ws?.send(encodeEvent(event, args, ack ? this.#acks.register(ack) : -1));
  }

  /** A clean WebSocket close: the server sees a client going away, as in real life. */
  close(): void {
    this.#closing = true;
    this.#ws?.close();
  }

  /** Drops the TCP connection at once: for tearing down thousands of clients after a run. */
  terminate(): void {
    this.#closing = true;
    this.#ws?.terminate();
  }

  /** Stops reading: the kernel's buffers fill, then the server's. */
  stall(): void {
    this.#tcp?.pause();
  }
}
