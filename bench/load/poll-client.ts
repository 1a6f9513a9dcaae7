import { type Agent, request } from "node:http";
import { readStamp } from "../lib/clock.js";
import { AckTable, encodeEvent, type LoadClient, MSG_PREFIX, readAckId } from "./load-client.js";

/** Engine.IO v4 joins the packets of one polling payload with the record separator. */
const SEPARATOR = "\x1e";

/**
 * Engine.IO v4 + Socket.IO v5 over HTTP long-polling, with no upgrade: one GET always waiting for
 * the server's packets and at most one POST in flight (the protocol refuses overlapping POSTs), so
 * packets queued meanwhile leave together in the next POST. No Accept-Encoding header is sent, so
 * neither server compresses: the comparison is of the transports, not of gzip.
 */
export class PollClient implements LoadClient {
  received = 0;
  onMsg: (stamp: number) => void = () => {};
  onLost: (reason: string) => void = () => {};
  readonly #port: number;
  readonly #agent: Agent;
  readonly #acks = new AckTable();
  #path = "";
  #outbox: string[] = [];
  #posting = false;
  #closed = false;
  #connected: { resolve(): void; reject(err: Error): void } | undefined;

  constructor(port: number, agent: Agent) {
    this.#port = port;
    this.#agent = agent;
  }

  async connect(): Promise<void> {
    const open = await this.#request("GET", "/socket.io/?EIO=4&transport=polling");
    if (open[0] !== "0") throw new Error(`unexpected handshake: ${open.slice(0, 80)}`);
    const { sid } = JSON.parse(open.slice(1)) as { sid: string };
    this.#path = `/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`;
    const connected = new Promise<void>((resolve, reject) => {
      this.#connected = { resolve, reject };
    });
    this.#send("40");
    this.#poll();
    return connected;
  }

  emit(event: string, args: readonly unknown[], ack?: () => void): void {
    this.#send(encodeEvent(event, args, ack ? this.#acks.register(ack) : -1));
  }

  close(): void {
    if (this.#closed) return;
    this.#send("1");
    this.#closed = true;
  }

  terminate(): void {
    this.#closed = true;
  }

  #send(packet: string): void {
    this.#outbox.push(packet);
    this.#flush();
  }

  #flush(): void {
    if (this.#posting || this.#outbox.length === 0) return;
    const body = this.#outbox.join(SEPARATOR);
    this.#outbox = [];
    this.#posting = true;
    this.#request("POST", this.#path, body).then(
      () => {
        this.#posting = false;
        if (!this.#closed) this.#flush();
      },
      (err: Error) => this.#lose(err.message),
    );
  }

  #poll(): void {
    if (this.#closed) return;
    this.#request("GET", this.#path).then(
      (payload) => {
        for (const packet of payload.split(SEPARATOR)) this.#onPacket(packet);
        this.#poll();
      },
      (err: Error) => this.#lose(err.message),
    );
  }

  #onPacket(packet: string): void {
    const type = packet[0];
    if (type === "4") {
      const sub = packet[1];
      if (sub === "2") {
        if (packet.startsWith(MSG_PREFIX)) {
          this.received++;
          this.onMsg(readStamp(packet, MSG_PREFIX.length));
        }
      } else if (sub === "3") {
        this.#acks.settle(readAckId(packet, 2));
      } else if (sub === "0") {
        this.#connected?.resolve();
        this.#connected = undefined;
      } else if (sub === "4") {
        this.#connected?.reject(new Error(`connect error: ${packet}`));
        this.#lose("connect error");
      }
    } else if (type === "2") {
      this.#send("3");
    } else if (type === "1") {
      this.#lose("closed by server");
    }
  }

  #lose(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#connected?.reject(new Error(reason));
    this.#connected = undefined;
    this.onLost(reason);
  }

  #request(method: "GET" | "POST", path: string, body?: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = {};
      if (body !== undefined) {
        headers["content-type"] = "text/plain;charset=UTF-8";
        headers["content-length"] = Buffer.byteLength(body);
      }
      const req = request({ host: "127.0.0.1", port: this.#port, method, path, agent: this.#agent, headers }, (res) => {
        res.setEncoding("utf8");
        let text = "";
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () => {
          if (res.statusCode === 200) resolve(text);
          else reject(new Error(`${method} ${res.statusCode}: ${text.slice(0, 120)}`));
        });
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(body);
    });
  }
}
