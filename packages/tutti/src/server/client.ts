import type { IncomingMessage } from "node:http";
import type { BroadcastFlags } from "../adapter/adapter.js";
import type { ClockTimer } from "../clock.js";
import type { EngineSession, SendData, SendOptions, SessionConsumer } from "../engine/engine-session.js";
import type { PreparedMessage } from "../engine/prepared-message.js";
import {
  type CloseReason,
  CloseReasons,
  ConnectErrorMessages,
  type DisconnectReason,
  DisconnectReasons,
} from "../errors.js";
import { type SocketPacket, SocketPacketType } from "../protocol/socket-packet.js";
import { checkPacket } from "./check-packet.js";
import { encodePacket } from "./encode-packet.js";
import type { ParserDecoder } from "./parser.js";
import type { Server } from "./server.js";
import type { Socket } from "./socket.js";

/**
 * Most packets held for a namespace whose CONNECT is still being processed; more, or more bytes
 * than `maxHttpBufferSize` held in all, closes the connection.
 */
const MAX_HELD_PACKETS = 100;

/** The send options of a packet flagged `compress(false)`: one shared object, not one per recipient. */
const NO_COMPRESSION: SendOptions = Object.freeze({ compress: false });

interface HeldPacket {
  readonly packet: SocketPacket;
  readonly size: number;
}

/**
 * CONNECTs one connection may have refused (an unknown namespace, a middleware's error) before
 * it is closed: each new try then costs a new handshake, which the engine's per-address
 * `handshakeRate` limits. Without it, one connection could try tokens against an auth
 * middleware as fast as it can send.
 */
export const MAX_REFUSED_CONNECTS = 10;

/** Namespaces remembered as left, for dropping packets that were in flight. */
const MAX_LEFT_NAMESPACES = 64;

// biome-ignore lint/suspicious/noExplicitAny: a client's sockets belong to namespaces of any event maps
type AnySocket = Socket<any, any, any, any>;

/**
 * One Engine.IO session seen from the Socket.IO layer: it decodes packets, routes them to the
 * socket of their namespace, and writes packets to the session. A client that connects to no
 * namespace within `connectTimeout` is closed.
 */
export class Client implements SessionConsumer {
  readonly conn: EngineSession;
  // biome-ignore lint/suspicious/noExplicitAny: see AnySocket
  readonly server: Server<any, any, any, any>;
  /** Connected sockets by namespace name. */
  readonly #sockets = new SocketTable();
  /**
   * Namespaces whose CONNECT is being processed (middlewares running), with the packets the
   * client sent for them meanwhile: they are delivered once the socket connects.
   */
  #connecting: Map<string, HeldPacket[]> | undefined;
  /** Bytes held across all connecting namespaces; past `maxHttpBufferSize` the connection closes. */
  #heldBytes = 0;
  /** Bytes of the packet being received so far (a binary packet spans several messages). */
  #packetBytes = 0;
  /** Messages given to a custom decoder since its last packet; past `maxAttachments + 1`, a parse error. */
  #packetMessages = 0;
  readonly #decoder: ParserDecoder | undefined;
  /** An error an app handler threw while the decoder emitted: the decoder's caller rethrows it. */
  #handlerError: { readonly error: unknown } | undefined;
  /** Namespaces this client was in: packets still in flight for them are dropped, not fatal. */
  #left: Set<string> | undefined;
  #connectTimer: ClockTimer | undefined;
  #closed = false;
  /** CONNECTs refused so far; at MAX_REFUSED_CONNECTS the connection is closed. */
  #refusedConnects = 0;

  // biome-ignore lint/suspicious/noExplicitAny: see AnySocket
  constructor(server: Server<any, any, any, any>, conn: EngineSession) {
    this.server = server;
    this.conn = conn;
    conn.consumer = this;
    try {
      const decoder = new server.options.parser.Decoder();
      // a bound method is smaller than an arrow function and its context (idle connections are measured)
      decoder.on("decoded", this.#onDecoded.bind(this));
      this.#decoder = decoder;
    } catch (err) {
      // a custom parser that cannot make a decoder: this connection cannot be served
      this.#decoder = undefined;
      this.#onParseError(`the parser's Decoder failed: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    this.#connectTimer = server.engine.opts.clock.setTimeout(() => {
      this.#connectTimer = undefined;
      if (this.#sockets.size === 0) this.close();
    }, server.options.connectTimeout);
  }

  /** The Engine.IO session's id (socket.io's `socket.client.id`; the admin UI reads it). */
  get id(): string {
    return this.conn.id;
  }

  /** The handshake HTTP request (socket.io's `socket.client.request`). */
  get request(): IncomingMessage {
    return this.conn.request;
  }

  /** The sockets of this connection, one per namespace. */
  get sockets(): ReadonlyMap<string, AnySocket> {
    return this.#sockets.toMap();
  }

  onSessionClose(reason: CloseReason, description: string | undefined): void {
    this.#onClose(reason, description);
  }

  onSessionData(data: string | Buffer): void {
    const decoder = this.#decoder;
    if (decoder === undefined || this.#closed) return;
    // size of the packet being received, attachments included (string length: close enough)
    this.#packetBytes += data.length;
    const { maxAttachments, customParser } = this.server.options;
    // Tutti's decoder counts attachments itself; a custom one is held to as many messages per
    // packet as a packet of Tutti's codec may span, so it never buffers more than that
    if (customParser && ++this.#packetMessages > maxAttachments + 1) {
      this.#onParseError("too many attachments");
      return;
    }
    try {
      decoder.add(data);
    } catch (err) {
      const handlerError = this.#handlerError;
      this.#handlerError = undefined;
      if (handlerError !== undefined && handlerError.error === err) throw err;
      this.#onParseError(err instanceof Error ? err.message : String(err));
    }
  }

  /** A packet from the decoder: checked when the parser is the app's, then routed. */
  #onDecoded(decoded: unknown): void {
    if (this.#closed) return;
    const size = this.#packetBytes;
    this.#packetBytes = 0;
    this.#packetMessages = 0;
    let packet = decoded as SocketPacket;
    if (this.server.options.customParser) {
      let checked: SocketPacket | string;
      try {
        checked = checkPacket(decoded, this.server.options);
      } catch {
        checked = "invalid packet"; // a getter on the decoded value threw
      }
      if (typeof checked === "string") {
        this.#onParseError(checked);
        return;
      }
      packet = checked;
    }
    try {
      this.#onPacket(packet, size);
    } catch (err) {
      // not the decoder's fault: onSessionData rethrows it instead of closing with "parse error"
      this.#handlerError = { error: err };
      throw err;
    }
  }

  #onPacket(packet: SocketPacket, size: number): void {
    const held = this.#connecting?.get(packet.nsp);
    const socket = this.#sockets.get(packet.nsp);
    if (packet.type === SocketPacketType.CONNECT) {
      // socket.io-client sends CONNECT again when the app calls connect() on a socket whose first
      // CONNECT is unanswered: the pending answer serves both. A CONNECT for a namespace the
      // client is in breaks the protocol, as socket.io holds.
      if (held !== undefined) return;
      if (socket !== undefined) this.close();
      else this.#connect(packet.nsp, packet.data as Record<string, unknown> | undefined);
      return;
    }
    if (packet.type === SocketPacketType.CONNECT_ERROR) {
      this.close(); // only servers send CONNECT_ERROR
      return;
    }
    if (held !== undefined) {
      // Sent before the server answered this namespace's CONNECT (a batched polling POST, frames
      // read together): kept in order until the socket is connected.
      this.#heldBytes += size;
      if (held.length >= MAX_HELD_PACKETS || this.#heldBytes > this.server.engine.opts.maxHttpBufferSize) {
        this.close();
      } else held.push({ packet, size });
      return;
    }
    if (socket !== undefined) socket.onPacket(packet);
    // The server may have just disconnected that socket while the client's packet was in flight:
    // dropped. For a namespace the client never entered, the client is broken: closed.
    else if (this.#left?.has(packet.nsp) !== true) this.close();
  }

  #connect(name: string, auth: Record<string, unknown> | undefined): void {
    this.#connecting ??= new Map();
    this.#connecting.set(name, []);
    this.server.resolveNamespace(name, auth, (nsp, refusal) => {
      if (this.#closed) return;
      if (nsp === undefined) {
        const held = this.#takeHeld(name);
        this.writePacket(
          {
            type: SocketPacketType.CONNECT_ERROR,
            nsp: name,
            data: { message: refusal ?? ConnectErrorMessages.INVALID_NAMESPACE },
          },
          {},
        );
        this.#replay(held);
        this.#onRefused();
        return;
      }
      nsp.add(
        this,
        auth,
        (socket: AnySocket) => {
          const held = this.#takeHeld(name);
          this.#sockets.set(name, socket);
          this.#left?.delete(name);
          if (this.#connectTimer !== undefined) {
            this.server.engine.opts.clock.clearTimeout(this.#connectTimer);
            this.#connectTimer = undefined;
          }
          // after the "connection" listeners have run, so the app's handlers are in place
          if (held.length > 0) process.nextTick(() => this.#replay(held));
        },
        () => {
          this.#replay(this.#takeHeld(name));
          this.#onRefused();
        },
      );
    });
  }

  #onRefused(): void {
    if (++this.#refusedConnects >= MAX_REFUSED_CONNECTS) this.close();
  }

  #takeHeld(name: string): HeldPacket[] {
    const held = this.#connecting?.get(name) ?? [];
    this.#connecting?.delete(name);
    if (this.#connecting?.size === 0) this.#connecting = undefined;
    for (const item of held) this.#heldBytes -= item.size;
    return held;
  }

  /** Handles held packets as if they had just arrived. */
  #replay(held: readonly HeldPacket[]): void {
    for (const { packet, size } of held) {
      if (this.#closed) return;
      this.#onPacket(packet, size);
    }
  }

  /** Encodes and writes one packet to this client. */
  writePacket(packet: SocketPacket, flags: BroadcastFlags): void {
    const options = this.#sendOptions(flags);
    if (options === null) return;
    for (const part of encodePacket(this.server, packet)) this.conn.send(part, options);
  }

  /** Writes a packet prepared once for many clients (a broadcast). */
  writePrepared(parts: readonly PreparedMessage[], flags: BroadcastFlags): void {
    const options = this.#sendOptions(flags);
    if (options === null) return;
    for (const part of parts) this.conn.sendPrepared(part, options);
  }

  /**
   * Writes packets already encoded with `io.encoder` (socket.io's `client.writeToEngine`):
   * adapters built on socket.io-adapter (@socket.io/redis-adapter and the like) encode a
   * broadcast once and call this for each local recipient. Their `wsPreEncodedFrame` is not
   * used: the session frames what it sends.
   */
  writeToEngine(
    encodedPackets: readonly SendData[],
    opts: { readonly volatile?: boolean; readonly compress?: boolean } = {},
  ): void {
    const options = this.#sendOptions(opts);
    if (options === null) return;
    for (const part of encodedPackets) this.conn.send(part, options);
  }

  /**
   * Whether a packet with these flags goes to this client now (`null`: not open, or volatile and
   * something waits), and if so the send options it takes.
   */
  #sendOptions(flags: { readonly volatile?: boolean; readonly compress?: boolean }): SendOptions | undefined | null {
    const conn = this.conn;
    if (conn.readyState !== "open") return null;
    if (flags.volatile === true && !conn.volatileWritable) return null;
    return flags.compress === false ? NO_COMPRESSION : undefined;
  }

  /** Forgets a socket that disconnected. */
  removeSocket(socket: AnySocket): void {
    const name = socket.nsp.name;
    if (this.#sockets.get(name) !== socket) return;
    this.#sockets.delete(name);
    this.#left ??= new Set();
    this.#left.add(name);
    // remembered for in-flight packets only, so a few names suffice
    if (this.#left.size > MAX_LEFT_NAMESPACES) this.#left.delete(this.#left.values().next().value as string);
  }

  /** Disconnects every socket of this client, then closes the connection (`socket.disconnect(true)`). */
  disconnectAll(): void {
    for (const socket of this.#sockets.list()) socket.disconnect();
    this.close();
  }

  /** Closes the connection: the sockets still connected get "forced server close". */
  close(): void {
    if (this.conn.readyState === "open") {
      this.conn.close();
      this.#onClose(DisconnectReasons.FORCED_SERVER_CLOSE);
    }
  }

  #destroyDecoder(): void {
    try {
      this.#decoder?.destroy();
    } catch {
      // a custom decoder's failure to clean up must not keep the connection's sockets open
    }
  }

  #onParseError(description: string): void {
    const err = new Error(description);
    for (const socket of this.#sockets.list()) socket.onError(err);
    this.#onClose(DisconnectReasons.PARSE_ERROR, description);
    this.conn.close();
  }

  #onClose(reason: CloseReason | DisconnectReason, description?: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.server.engine.opts.clock.clearTimeout(this.#connectTimer);
    this.#connectTimer = undefined;
    this.#destroyDecoder();
    // the engine's "server shutdown" is socket.io's "server shutting down"
    const mapped: DisconnectReason =
      reason === CloseReasons.SERVER_SHUTDOWN ? DisconnectReasons.SERVER_SHUTTING_DOWN : reason;
    for (const socket of this.#sockets.list()) socket.onClose(mapped, description);
    this.#sockets.clear();
  }
}

/**
 * Sockets by namespace name. Nearly every client is in one namespace, so the first socket is
 * held in two fields and a Map exists only for a second one: a Map per connection was the
 * largest single item of an idle connection's heap after the WebSocket itself (measured).
 */
class SocketTable {
  #name: string | undefined;
  #socket: AnySocket | undefined;
  #more: Map<string, AnySocket> | undefined;

  get size(): number {
    return (this.#socket === undefined ? 0 : 1) + (this.#more?.size ?? 0);
  }

  get(name: string): AnySocket | undefined {
    if (name === this.#name) return this.#socket;
    return this.#more?.get(name);
  }

  set(name: string, socket: AnySocket): void {
    if (this.#socket === undefined || name === this.#name) {
      this.#name = name;
      this.#socket = socket;
      return;
    }
    this.#more ??= new Map();
    this.#more.set(name, socket);
  }

  delete(name: string): void {
    if (name === this.#name) {
      this.#name = undefined;
      this.#socket = undefined;
      // promote one of the others, so `get` stays a field compare for the common case
      const next = this.#more?.entries().next();
      if (next !== undefined && next.done !== true) {
        this.#more?.delete(next.value[0]);
        this.#name = next.value[0];
        this.#socket = next.value[1];
      }
      return;
    }
    this.#more?.delete(name);
  }

  /** A copy of the sockets, safe to iterate while they disconnect. */
  list(): AnySocket[] {
    const out: AnySocket[] = this.#socket === undefined ? [] : [this.#socket];
    if (this.#more !== undefined) for (const socket of this.#more.values()) out.push(socket);
    return out;
  }

  clear(): void {
    this.#name = undefined;
    this.#socket = undefined;
    this.#more = undefined;
  }

  toMap(): Map<string, AnySocket> {
    const map = new Map<string, AnySocket>();
    for (const socket of this.list()) map.set(socket.nsp.name, socket);
    return map;
  }
}
