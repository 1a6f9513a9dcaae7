import { once } from "node:events";
import { request as httpRequest, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocket } from "ws";
import { type EngineOptions, EngineServer, type EngineSession } from "../src/index.js";

export interface Running {
  engine: EngineServer;
  port: number;
  /** http://127.0.0.1:port */
  url: string;
  close(): Promise<void>;
}

/** Starts an engine on an ephemeral loopback port; `onConnection` runs for every session. */
export async function startEngine(
  opts: EngineOptions = {},
  onConnection?: (session: EngineSession) => void,
): Promise<Running> {
  const engine = new EngineServer(opts);
  if (onConnection) engine.on("connection", onConnection);
  await new Promise<void>((resolve) => engine.listen(0, "127.0.0.1", resolve));
  return running(engine, engine.httpServer as Server);
}

export function running(engine: EngineServer, server: Server): Running {
  const port = (server.address() as AddressInfo).port;
  return {
    engine,
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        engine.close(() => resolve());
      }),
  };
}

/** An engine that echoes every message back, like the protocol's conformance suite expects. */
export function startEcho(opts: EngineOptions = {}): Promise<Running> {
  return startEngine(opts, (session) => {
    session.on("message", (data) => session.send(data));
  });
}

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  raw: Buffer;
}

/** One plain HTTP request on a fresh connection. */
export function http(
  port: number,
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const raw = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: raw.toString("utf8"), raw });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

/** Opens a polling session by hand; returns its sid and the parsed open packet. */
export async function pollingHandshake(
  port: number,
  path = "/socket.io/",
): Promise<{ sid: string; open: Record<string, unknown> }> {
  const res = await http(port, "GET", `${path}?EIO=4&transport=polling`);
  if (res.status !== 200 || !res.body.startsWith("0")) throw new Error(`handshake failed: ${res.status} ${res.body}`);
  const open = JSON.parse(res.body.slice(1).split("\x1e")[0] as string) as Record<string, unknown>;
  return { sid: open.sid as string, open };
}

/** A raw WebSocket that records every frame it receives. */
export class RawWs {
  readonly ws: WebSocket;
  readonly frames: Array<string | Buffer> = [];
  #waiters: Array<() => void> = [];
  closed = false;
  closeCode: number | undefined;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.on("message", (data, isBinary) => {
      this.frames.push(isBinary ? (data as Buffer) : (data as Buffer).toString("utf8"));
      this.#wake();
    });
    this.ws.on("close", (code) => {
      this.closed = true;
      this.closeCode = code;
      this.#wake();
    });
    this.ws.on("error", () => {
      this.closed = true;
      this.#wake();
    });
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  async opened(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN) return;
    await once(this.ws, "open");
  }

  /** Resolves with the next frame not yet taken; rejects if the socket closes first. */
  async next(): Promise<string | Buffer> {
    for (;;) {
      const frame = this.frames.shift();
      if (frame !== undefined) return frame;
      if (this.closed) throw new Error("websocket closed");
      await new Promise<void>((r) => this.#waiters.push(r));
    }
  }

  async waitClosed(): Promise<number | undefined> {
    while (!this.closed) await new Promise<void>((r) => this.#waiters.push(r));
    return this.closeCode;
  }

  send(data: string | Buffer): void {
    this.ws.send(data);
  }
}

/** Resolves when `predicate` holds, checking after every event-loop turn; for state without an event. */
export async function until(predicate: () => boolean, what = "condition", limitMs = 5000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > limitMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The URL of an Engine.IO v4 handshake on the default path, over polling or WebSocket. */
export function handshakeUrl(port: number, transport: "polling" | "websocket" = "polling"): string {
  const scheme = transport === "websocket" ? "ws" : "http";
  return `${scheme}://127.0.0.1:${port}/socket.io/?EIO=4&transport=${transport}`;
}

/** A refused WebSocket handshake: its HTTP status and status text. */
export interface WsRefusal {
  status: number;
  statusText: string;
}

/** The answer to a WebSocket handshake: the open socket, or the refusal. */
export function wsHandshakeAnswer(url: string, headers: Record<string, string> = {}): Promise<WebSocket | WsRefusal> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on("open", () => resolve(ws));
    ws.on("unexpected-response", (_req, res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? "" });
    });
    ws.on("error", () => undefined);
  });
}

/** The answer to a WebSocket handshake: "open" (the socket is then closed) or the refusal's HTTP status. */
export async function wsHandshake(url: string, headers: Record<string, string> = {}): Promise<string | number> {
  const answer = await wsHandshakeAnswer(url, headers);
  if (!(answer instanceof WebSocket)) return answer.status;
  answer.close();
  return "open";
}

/** Minimal emitter shape shared by Node's EventEmitter and engine.io-client's Emitter. */
export interface OnceEmitter {
  once(event: string, listener: (...args: never[]) => void): unknown;
}

/** Resolves with the arguments of the next `event`; works with engine.io-client sockets too. */
export function nextEvent<T extends unknown[] = unknown[]>(emitter: OnceEmitter, event: string): Promise<T> {
  return new Promise((resolve) => {
    emitter.once(event, (...args: unknown[]) => resolve(args as T));
  });
}
