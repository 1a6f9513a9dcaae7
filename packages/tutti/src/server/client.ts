import type { IncomingMessage } from "node:http";
import type { BroadcastFlags } from "../adapter/adapter.js";
import type { EngineSession } from "../engine/engine-session.js";
import type { PreparedMessage } from "../engine/prepared-message.js";
import {
  type CloseReason,
  CloseReasons,
  ConnectErrorMessages,
  type DisconnectReason,
  DisconnectReasons,
} from "../errors.js";
import {
  encodeSocketPacket,
  type SocketPacket,
  SocketPacketDecoder,
  SocketPacketType,
} from "../protocol/socket-packet.js";
import type { Server } from "./server.js";
import type { Socket } from "./socket.js";

/**
 * Most packets held for a namespace whose CONNECT is still being processed; more, or more bytes
 * than `maxHttpBufferSize` held in all, closes the connection.
 */
const MAX_HELD_PACKETS = 100;

interface HeldPacket {
  readonly packet: SocketPacket;
  readonly size: number;
}

/** Namespaces remembered as left, for dropping packets that were in flight. */
const MAX_LEFT_NAMESPACES = 64;

// biome-ignore lint/suspicious/noExplicitAny: a client's sockets belong to namespaces of any event maps
type AnySocket = Socket<any, any, any, any>;

/**
 * One Engine.IO session seen from the Socket.IO layer: it decodes packets, routes them to the
 * socket of their namespace, and writes packets to the session. A client that connects to no
 * namespace within `connectTimeout` is closed.
 */
export class Client {
  readonly conn: EngineSession;
  // biome-ignore lint/suspicious/noExplicitAny: see AnySocket
  readonly server: Server<any, any, any, any>;
  /** Connected sockets by namespace name. */
  readonly #sockets = new Map<string, AnySocket>();
  /**
   * Namespaces whose CONNECT is being processed (middlewares running), with the packets the
   * client sent for them meanwhile: they are delivered once the socket connects.
   */
  readonly #connecting = new Map<string, HeldPacket[]>();
  /** Bytes held across all connecting namespaces; past `maxHttpBufferSize` the connection closes. */
  #heldBytes = 0;
  /** Bytes of the packet being received so far (a binary packet spans several messages). */
  #packetBytes = 0;
  readonly #decoder: SocketPacketDecoder;
  /** Namespaces this client was in: packets still in flight for them are dropped, not fatal. */
  readonly #left = new Set<string>();
  #connectTimer: NodeJS.Timeout | undefined;
  #closed = false;

  // biome-ignore lint/suspicious/noExplicitAny: see AnySocket
  constructor(server: Server<any, any, any, any>, conn: EngineSession) {
    this.server = server;
    this.conn = conn;
    this.#decoder = new SocketPacketDecoder(server.options.maxAttachments);
    conn.on("data", (data) => this.#onData(data));
    conn.on("close", (reason, description) => this.#onClose(reason, description));
    this.#connectTimer = setTimeout(() => {
      this.#connectTimer = undefined;
      if (this.#sockets.size === 0) this.close();
    }, server.options.connectTimeout);
  }

  /** The handshake HTTP request (socket.io's `socket.client.request`). */
  get request(): IncomingMessage {
    return this.conn.request;
  }

  /** The sockets of this connection, one per namespace. */
  get sockets(): ReadonlyMap<string, AnySocket> {
    return this.#sockets;
  }

  #onData(data: string | Buffer): void {
    // size of the packet being received, attachments included (string length: close enough)
    this.#packetBytes += data.length;
    const result = this.#decoder.add(data);
    if (result === undefined) return;
    const size = this.#packetBytes;
    this.#packetBytes = 0;
    if (result.error !== undefined) {
      this.#onParseError(result.error);
      return;
    }
    this.#onPacket(result.packet, size);
  }

  #onPacket(packet: SocketPacket, size: number): void {
    const held = this.#connecting.get(packet.nsp);
    const socket = this.#sockets.get(packet.nsp);
    if (packet.type === SocketPacketType.CONNECT) {
      // socket.io-client sends CONNECT again when the app calls connect() on a socket whose first
      // CONNECT is unanswered: the pending answer serves both. A CONNECT for a namespace the
      // client is in breaks the protocol, as socket.io holds.
      if (held !== undefined) return;
      if (socket !== undefined) this.close();
      else this.#connect(packet.nsp, (packet.data as Record<string, unknown> | undefined) ?? {});
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
    else if (!this.#left.has(packet.nsp)) this.close();
  }

  #connect(name: string, auth: Record<string, unknown>): void {
    this.#connecting.set(name, []);
    this.server.resolveNamespace(name, auth, (nsp) => {
      if (this.#closed) return;
      if (nsp === undefined) {
        const held = this.#takeHeld(name);
        this.writePacket(
          {
            type: SocketPacketType.CONNECT_ERROR,
            nsp: name,
            data: { message: ConnectErrorMessages.INVALID_NAMESPACE },
          },
          {},
        );
        this.#replay(held);
        return;
      }
      nsp.add(
        this,
        auth,
        (socket: AnySocket) => {
          const held = this.#takeHeld(name);
          this.#sockets.set(name, socket);
          this.#left.delete(name);
          if (this.#connectTimer !== undefined) {
            clearTimeout(this.#connectTimer);
            this.#connectTimer = undefined;
          }
          // after the "connection" listeners have run, so the app's handlers are in place
          if (held.length > 0) process.nextTick(() => this.#replay(held));
        },
        () => this.#replay(this.#takeHeld(name)),
      );
    });
  }

  #takeHeld(name: string): HeldPacket[] {
    const held = this.#connecting.get(name) ?? [];
    this.#connecting.delete(name);
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
    const conn = this.conn;
    if (conn.readyState !== "open") return;
    if (flags.volatile === true && !conn.volatileWritable) return;
    const encoded = encodeSocketPacket(packet);
    const options = flags.compress === false ? { compress: false } : undefined;
    conn.send(encoded.text, options);
    for (const attachment of encoded.attachments) conn.send(attachment, options);
  }

  /** Writes a packet prepared once for many clients (a broadcast). */
  writePrepared(parts: readonly PreparedMessage[], flags: BroadcastFlags): void {
    const conn = this.conn;
    if (conn.readyState !== "open") return;
    if (flags.volatile === true && !conn.volatileWritable) return;
    const options = flags.compress === false ? { compress: false } : undefined;
    for (const part of parts) conn.sendPrepared(part, options);
  }

  /** Forgets a socket that disconnected. */
  removeSocket(socket: AnySocket): void {
    const name = socket.nsp.name;
    if (this.#sockets.get(name) !== socket) return;
    this.#sockets.delete(name);
    this.#left.add(name);
    // remembered for in-flight packets only, so a few names suffice
    if (this.#left.size > MAX_LEFT_NAMESPACES) this.#left.delete(this.#left.values().next().value as string);
  }

  /** Disconnects every socket of this client, then closes the connection (`socket.disconnect(true)`). */
  disconnectAll(): void {
    for (const socket of [...this.#sockets.values()]) socket.disconnect();
    this.close();
  }

  /** Closes the connection: the sockets still connected get "forced server close". */
  close(): void {
    if (this.conn.readyState === "open") {
      this.conn.close();
      this.#onClose(DisconnectReasons.FORCED_SERVER_CLOSE);
    }
  }

  #onParseError(description: string): void {
    const err = new Error(description);
    for (const socket of [...this.#sockets.values()]) socket.onError(err);
    this.#onClose(DisconnectReasons.PARSE_ERROR, description);
    this.conn.close();
  }

  #onClose(reason: CloseReason | DisconnectReason, description?: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#connectTimer);
    this.#connectTimer = undefined;
    this.#decoder.reset();
    // the engine's "server shutdown" is socket.io's "server shutting down"
    const mapped: DisconnectReason =
      reason === CloseReasons.SERVER_SHUTDOWN ? DisconnectReasons.SERVER_SHUTTING_DOWN : reason;
    for (const socket of [...this.#sockets.values()]) socket.onClose(mapped, description);
    this.#sockets.clear();
  }
}
