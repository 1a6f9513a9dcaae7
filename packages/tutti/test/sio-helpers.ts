import type { Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type Socket as ClientSocket, io as ioClient, type ManagerOptions, type SocketOptions } from "socket.io-client";
import { Server, type ServerOptions } from "../src/index.js";

/** The three ways the official client reaches the server. */
export const TRANSPORTS = {
  polling: ["polling"],
  websocket: ["websocket"],
  upgrade: ["polling", "websocket"],
} as const satisfies Record<string, ReadonlyArray<"polling" | "websocket">>;

export type TransportMode = keyof typeof TRANSPORTS;

export const TRANSPORT_MODES = Object.keys(TRANSPORTS) as TransportMode[];

export interface RunningIo {
  io: Server;
  port: number;
  /** http://127.0.0.1:port */
  url: string;
  /** Official socket.io-client sockets, closed by `close()`. */
  clients: ClientSocket[];
  /** Creates an official client (forceNew, no auto-connect delay) for `nsp` over `mode`. */
  client(nsp?: string, opts?: Partial<ManagerOptions & SocketOptions>, mode?: TransportMode): ClientSocket;
  close(): Promise<void>;
}

/** Starts a Tutti Socket.IO server on an ephemeral loopback port. */
export async function startIo(
  opts: Partial<ServerOptions> = {},
  mode: TransportMode = "websocket",
): Promise<RunningIo> {
  const io = new Server(opts);
  const { createServer } = await import("node:http");
  const httpServer = createServer();
  io.attach(httpServer);
  await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  const port = (httpServer.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const clients: ClientSocket[] = [];
  return {
    io,
    port,
    url,
    clients,
    client(nsp = "/", clientOpts = {}, clientMode = mode) {
      const socket = ioClient(`${url}${nsp}`, {
        forceNew: true,
        transports: [...TRANSPORTS[clientMode]],
        reconnection: false,
        ...clientOpts,
      });
      clients.push(socket);
      return socket;
    },
    async close() {
      for (const c of clients) c.io.engine?.close();
      for (const c of clients) c.disconnect();
      await io.close();
      (httpServer as HttpServer).closeAllConnections();
    },
  };
}

/** Resolves with the arguments of the next `event` on `emitter`; rejects after `limitMs`. */
export function waitFor<T extends unknown[] = unknown[]>(
  emitter: { once(event: string, listener: (...args: never[]) => void): unknown },
  event: string,
  limitMs = 5000,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for "${event}"`)), limitMs);
    emitter.once(event, ((...args: T) => {
      clearTimeout(timer);
      resolve(args);
    }) as unknown as (...args: never[]) => void);
  });
}

/** Resolves once `socket` is connected; rejects with its connect_error. */
export function connected(socket: ClientSocket, limitMs = 5000): Promise<void> {
  if (socket.connected) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const done = (err?: Error): void => {
      clearTimeout(timer);
      socket.off("connect", onConnect);
      socket.off("connect_error", done);
      if (err) reject(err);
      else resolve();
    };
    const onConnect = (): void => done();
    const timer = setTimeout(() => done(new Error("timed out waiting for connect")), limitMs);
    socket.on("connect", onConnect);
    socket.on("connect_error", done);
  });
}
