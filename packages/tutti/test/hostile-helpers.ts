/**
 * Helpers for the hostile-input tests: an arena (a Tutti server with well-behaved official
 * clients connected before any attack, and a way to check they are still served after it),
 * raw TCP sockets, raw WebSocket frames built by hand, and raw long-polling.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createServer, type Server as HttpServer, type ServerOptions as HttpServerOptions } from "node:http";
import { type AddressInfo, connect, type Socket as NetSocket } from "node:net";
import { type Socket as ClientSocket, io as ioClient } from "socket.io-client";
import { Server, type ServerOptions, type Socket } from "../src/index.js";
import { type HttpResult, http, RawWs, until } from "./helpers.js";
import { connected, TRANSPORTS, type TransportMode } from "./sio-helpers.js";

export const WS_PATH = "/socket.io/?EIO=4&transport=websocket";
export const PH0 = '{"_placeholder":true,"num":0}';
export const PH1 = '{"_placeholder":true,"num":1}';

/**
 * Server options, with room for options this tree may not have yet (`handshakeRate`): every
 * test client comes from 127.0.0.1, so a per-address handshake limit would count the attacker
 * and the well-behaved clients as one.
 */
export type ArenaServerOptions = Partial<ServerOptions> & Record<string, unknown>;

/** The built-in prototypes' own property names: a pollution adds one. */
export function prototypeSnapshot(): string[] {
  return [Object.prototype, Array.prototype, Function.prototype, String.prototype].map((p) =>
    Reflect.ownKeys(p).map(String).sort().join(","),
  );
}

/** Nesting depth of a value that nests through its first element or first property; no recursion. */
export function depthOf(value: unknown): number {
  let depth = 0;
  let current = value;
  while (current !== null && typeof current === "object" && !Buffer.isBuffer(current)) {
    depth++;
    current = Array.isArray(current) ? current[0] : Object.values(current)[0];
  }
  return depth;
}

/** `[`×n `]`×n: n levels of nested arrays as JSON text. */
export function nestedArrays(depth: number, inner = ""): string {
  return `${"[".repeat(depth)}${inner}${"]".repeat(depth)}`;
}

export interface ArenaOptions {
  io?: ArenaServerOptions;
  http?: HttpServerOptions;
  /** Official clients connected before any attack, one per transport mode. Default websocket and polling. */
  officials?: TransportMode[];
}

/** Resources a test opened, destroyed when the arena closes. */
interface Closable {
  close(): void;
}

/**
 * A Tutti server on an ephemeral loopback port whose "/" and "/admin" namespaces answer:
 * `echo` (acks with its arguments), `inspect` (records its arguments, acks "ok"), and `depth`
 * (acks with the nesting depth of its argument, found without recursion). Official clients are
 * connected before any test runs.
 */
export class Arena {
  readonly io: Server;
  readonly httpServer: HttpServer;
  readonly port: number;
  readonly url: string;
  /** Engine session close reasons, by session id. */
  readonly engineCloses = new Map<string, string>();
  /** Server-side socket disconnect reasons, by socket id. */
  readonly disconnects = new Map<string, string>();
  /** The arguments of each `inspect` event, with the socket that got it. */
  readonly inspected: Array<{ socket: Socket; args: unknown[] }> = [];
  /** Server-side sockets by id, kept after they disconnect. */
  readonly sockets = new Map<string, Socket>();
  readonly officials: ClientSocket[] = [];
  readonly #open: Closable[] = [];
  readonly #prototypes = prototypeSnapshot();
  #rounds = 0;

  private constructor(io: Server, httpServer: HttpServer) {
    this.io = io;
    this.httpServer = httpServer;
    this.port = (httpServer.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.port}`;
  }

  static async start(options: ArenaOptions = {}): Promise<Arena> {
    const io = new Server({ handshakeRate: false, ...options.io } as Partial<ServerOptions>);
    const httpServer = createServer(options.http ?? {});
    io.attach(httpServer);
    await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
    const arena = new Arena(io, httpServer);
    arena.#listen();
    for (const mode of options.officials ?? ["websocket", "polling"]) {
      const official = ioClient(`${arena.url}/`, {
        forceNew: true,
        transports: [...TRANSPORTS[mode]],
        reconnection: false,
      });
      arena.officials.push(official);
      await connected(official);
    }
    return arena;
  }

  #listen(): void {
    this.io.engine.on("connection", (session) => {
      session.on("close", (reason) => this.engineCloses.set(session.id, reason));
    });
    const onConnection = (socket: Socket): void => {
      this.sockets.set(socket.id, socket);
      socket.on("disconnect", (reason) => this.disconnects.set(socket.id, reason));
      socket.on("echo", (...args: unknown[]) => {
        const ack = args.pop();
        if (typeof ack === "function") ack(...args);
      });
      socket.on("inspect", (...args: unknown[]) => {
        const ack = typeof args.at(-1) === "function" ? (args.pop() as (x: unknown) => void) : undefined;
        this.inspected.push({ socket, args });
        ack?.("ok");
      });
      socket.on("depth", (value: unknown, ack?: unknown) => {
        if (typeof ack === "function") ack(depthOf(value));
      });
    };
    this.io.on("connection", onConnection);
    this.io.of("/admin").on("connection", onConnection);
  }

  /** An official socket.io-client socket (forceNew, no reconnection), closed with the arena. */
  client(nsp = "/", mode: TransportMode = "websocket"): ClientSocket {
    const socket = ioClient(`${this.url}${nsp}`, {
      forceNew: true,
      transports: [...TRANSPORTS[mode]],
      reconnection: false,
    });
    this.#open.push({
      close: () => {
        socket.io.engine?.close();
        socket.disconnect();
      },
    });
    return socket;
  }

  /** Registers something to close with the arena (raw sockets). */
  track<T extends Closable>(resource: T): T {
    this.#open.push(resource);
    return resource;
  }

  /**
   * The server is up and undisturbed: every official client connected before the attack is
   * still connected and gets an ack round trip, a fresh client connects and gets one too, and
   * no built-in prototype changed.
   */
  async healthy(): Promise<void> {
    for (const official of this.officials) {
      const transport = official.io.engine?.transport?.name ?? "none";
      assert.equal(official.connected, true, `the official client (${transport}) is still connected`);
      const n = ++this.#rounds;
      const answer: unknown = await official.timeout(5000).emitWithAck("echo", { n }, "well-behaved");
      assert.deepEqual(answer, { n }, `the official client (${transport}) gets its ack`);
    }
    const fresh = this.client("/", this.#rounds % 2 === 0 ? "websocket" : "polling");
    await connected(fresh);
    const answer: unknown = await fresh.timeout(5000).emitWithAck("echo", "fresh");
    assert.equal(answer, "fresh", "a client connecting after the attack gets its ack");
    fresh.disconnect();
    assert.deepEqual(prototypeSnapshot(), this.#prototypes, "no built-in prototype changed");
    const probe = {} as Record<string, unknown>;
    for (const key of ["polluted", "isAdmin", "admin"]) assert.equal(probe[key], undefined, `({}).${key}`);
  }

  /** Opens a raw WebSocket and takes the Engine.IO open packet; returns it with the session id. */
  async ws(query = ""): Promise<{ raw: RawWs; sid: string }> {
    const raw = new RawWs(`ws://127.0.0.1:${this.port}${WS_PATH}${query}`);
    this.track({ close: () => raw.ws.terminate() });
    const open = await raw.next();
    assert.equal(typeof open, "string", "the open packet is text");
    assert.match(open as string, /^0\{/, "the engine open packet comes first");
    const sid = (JSON.parse((open as string).slice(1)) as { sid: string }).sid;
    return { raw, sid };
  }

  /** Opens a raw WebSocket and CONNECTs to `nsp`; returns the socket id the server answered with. */
  async wsConnected(nsp = "/", query = ""): Promise<{ raw: RawWs; sid: string; socketId: string }> {
    const { raw, sid } = await this.ws(query);
    const socketId = await rawConnect(raw, nsp);
    return { raw, sid, socketId };
  }

  /** A raw TCP connection to the server, destroyed with the arena. */
  async tcp(): Promise<RawTcp> {
    return this.track(await RawTcp.open(this.port));
  }

  /** Opens a raw polling session; returns it with its session id. */
  async polling(): Promise<RawPolling> {
    const res = await http(this.port, "GET", "/socket.io/?EIO=4&transport=polling");
    assert.equal(res.status, 200, `handshake: ${res.body}`);
    assert.match(res.body, /^0\{/);
    const sid = (JSON.parse(res.body.slice(1)) as { sid: string }).sid;
    return new RawPolling(this.port, sid);
  }

  /** Closes what tests opened (raw sockets, fresh clients); the official clients stay. */
  release(): void {
    for (const resource of this.#open.splice(0).reverse()) resource.close();
  }

  async close(): Promise<void> {
    this.release();
    for (const official of this.officials) {
      official.io.engine?.close();
      official.disconnect();
    }
    await this.io.close();
    this.httpServer.closeAllConnections();
  }
}

/** The next frame that is not an Engine.IO ping (pings are answered). */
export async function nextPacket(raw: RawWs): Promise<string | Buffer> {
  for (;;) {
    const frame = await raw.next();
    if (frame === "2") {
      raw.send("3");
      continue;
    }
    return frame;
  }
}

/** Sends CONNECT for `nsp` (with `auth`) and returns the socket id of the server's answer. */
export async function rawConnect(raw: RawWs, nsp = "/", auth = ""): Promise<string> {
  const prefix = nsp === "/" ? "" : `${nsp},`;
  raw.send(`40${prefix}${auth}`);
  const answer = String(await nextPacket(raw));
  const match = /^40(\/[^,]*,)?(\{.*\})$/.exec(answer);
  assert.ok(match, `CONNECT answered with ${answer.slice(0, 200)}`);
  return (JSON.parse(match[2] as string) as { sid: string }).sid;
}

/** A raw TCP connection that collects what the server sends and notices when the server closes it. */
export class RawTcp {
  readonly socket: NetSocket;
  received = Buffer.alloc(0);
  closed = false;

  private constructor(socket: NetSocket) {
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
    });
    socket.on("close", () => {
      this.closed = true;
    });
    socket.on("error", () => {});
  }

  static open(port: number): Promise<RawTcp> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () => resolve(new RawTcp(socket)));
      socket.once("error", reject);
    });
  }

  get text(): string {
    return this.received.toString("latin1");
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Resolves once the server has closed the connection (or `limitMs` passes: rejects). */
  async waitClosed(what: string, limitMs = 5000): Promise<void> {
    await until(() => this.closed, what, limitMs);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A WebSocket frame from the client: masked, as RFC 6455 requires. */
export function clientFrame(opcode: number, payload: Buffer, fin = true): Buffer {
  const length = payload.length;
  let header: Buffer;
  if (length < 126) {
    header = Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | length]);
  } else if (length < 65536) {
    header = Buffer.alloc(4);
    header[0] = (fin ? 0x80 : 0) | opcode;
    header[1] = 0x80 | 126;
    header.writeUInt16BE(length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = (fin ? 0x80 : 0) | opcode;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  const mask = randomBytes(4);
  const masked = Buffer.from(payload);
  for (let i = 0; i < masked.length; i++) masked[i] = (masked[i] as number) ^ (mask[i % 4] as number);
  return Buffer.concat([header, mask, masked]);
}

export const OPCODE = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8 } as const;

export interface ServerFrame {
  opcode: number;
  payload: Buffer;
}

/** Parses the (unmasked) frames the server sent after its 101 response; a partial last frame is left out. */
export function serverFrames(received: Buffer): ServerFrame[] {
  const start = received.indexOf("\r\n\r\n");
  if (start === -1) return [];
  const frames: ServerFrame[] = [];
  let i = start + 4;
  while (i + 2 <= received.length) {
    const opcode = (received[i] as number) & 0x0f;
    let length = (received[i + 1] as number) & 0x7f;
    let offset = i + 2;
    if (length === 126) {
      if (offset + 2 > received.length) break;
      length = received.readUInt16BE(offset);
      offset += 2;
    } else if (length === 127) {
      if (offset + 8 > received.length) break;
      length = Number(received.readBigUInt64BE(offset));
      offset += 8;
    }
    if (offset + length > received.length) break;
    frames.push({ opcode, payload: received.subarray(offset, offset + length) });
    i = offset + length;
  }
  return frames;
}

/** Opens a WebSocket over a raw TCP connection (hand-written upgrade); resolves after the 101. */
export async function rawTcpWebSocket(arena: Arena, path = WS_PATH): Promise<RawTcp> {
  const tcp = await arena.tcp();
  tcp.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  await until(() => tcp.text.includes("\r\n\r\n") || tcp.closed, "the upgrade response");
  assert.match(tcp.text, /^HTTP\/1\.1 101 /, "switching protocols");
  return tcp;
}

/** A long-polling session driven by hand. */
export class RawPolling {
  readonly port: number;
  readonly sid: string;

  constructor(port: number, sid: string) {
    this.port = port;
    this.sid = sid;
  }

  get path(): string {
    return `/socket.io/?EIO=4&transport=polling&sid=${this.sid}`;
  }

  post(body: string | Buffer, headers: Record<string, string> = {}): Promise<HttpResult> {
    return http(this.port, "POST", this.path, body, { "Content-Type": "text/plain;charset=UTF-8", ...headers });
  }

  get(): Promise<HttpResult> {
    return http(this.port, "GET", this.path);
  }

  /**
   * Polls until the server sends what `done` looks for, answering pings; returns every record
   * received. Fails on a non-200 answer.
   */
  async pollUntil(done: (records: readonly string[]) => boolean): Promise<string[]> {
    const records: string[] = [];
    while (!done(records)) {
      const res = await this.get();
      assert.equal(res.status, 200, `poll after ${JSON.stringify(records).slice(0, 200)}: ${res.body}`);
      for (const record of res.body.split("\x1e")) {
        records.push(record);
        if (record === "2") await this.post("3");
      }
    }
    return records;
  }

  /** Sends CONNECT for "/" and returns the socket id of the answer. */
  async connect(auth = ""): Promise<string> {
    const post = await this.post(`40${auth}`);
    assert.equal(post.status, 200, post.body);
    const records = await this.pollUntil((r) => r.some((x) => x.startsWith("40")));
    const answer = records.find((x) => x.startsWith("40")) as string;
    assert.match(answer, /^40\{"sid":"[^"]+"\}$/);
    return (JSON.parse(answer.slice(2)) as { sid: string }).sid;
  }
}
