import { createServer, type Server as HttpServer } from "node:http";
import { fileURLToPath } from "node:url";
import { Server } from "tutti";
import { type ChatNamespace, setupChat } from "./chat-namespace.js";
import { type Dashboard, type DashboardNamespace, setupDashboard } from "./dashboard-namespace.js";
import type { StatusClientEvents, StatusServerEvents } from "./events.js";
import { handleApi } from "./orders-api.js";
import { requestPath, StaticFiles } from "./static-files.js";

/** Where `vite build` puts the front end. */
export const DIST_DIR = fileURLToPath(new URL("../dist", import.meta.url));

export interface DemoOptions {
  /** The built front end (DIST_DIR). */
  distDir?: string;
  /** Mean simulated orders per second (3); 0 simulates none. */
  ordersPerSecond?: number;
  /** The clock, ms since the epoch (Date.now). */
  now?: () => number;
  /** Uniform in [0, 1) (Math.random), for the simulated orders. */
  random?: () => number;
}

export interface Demo {
  server: HttpServer;
  io: Server<StatusClientEvents, StatusServerEvents>;
  dashboard: Dashboard;
  /** Stops the timers, disconnects every client and closes the HTTP server. */
  close(): Promise<void>;
}

/**
 * The demo: the built page, `/api/orders`, and a Tutti server with three namespaces: "/" (status:
 * ping, and the number of connected clients), "/chat" and "/dashboard". Everything is kept in memory.
 * Call `server.listen()` on the result.
 */
export async function createDemo(opts: DemoOptions = {}): Promise<Demo> {
  const now = opts.now ?? Date.now;
  const files = await StaticFiles.load(opts.distDir ?? DIST_DIR);
  const io = new Server<StatusClientEvents, StatusServerEvents>({ serveClient: false });

  // socket.io types every namespace with the server's event maps; each of ours has its own
  const chat = io.of("/chat") as unknown as ChatNamespace;
  const stopChat = setupChat(chat, { now });
  const dashboard = setupDashboard(io.of("/dashboard") as unknown as DashboardNamespace, {
    now,
    random: opts.random ?? Math.random,
    ordersPerSecond: opts.ordersPerSecond ?? 3,
  });

  const api = { latest: () => dashboard.feed.snapshot().latest, place: dashboard.place };
  const server = createServer((req, res) => {
    const path = requestPath(req);
    if (handleApi(req, res, path, api)) return;
    if (files.serve(req, res, path)) return;
    res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" });
    res.end("Not found");
  });
  // attached after the app's listener: Tutti puts its own path (/socket.io/) in front of the listeners it finds
  io.attach(server);

  // a connected client is an Engine.IO connection: one per page, whatever namespaces it opens
  let clientsTimer: NodeJS.Timeout | undefined;
  const announceClients = (): void => {
    if (clientsTimer !== undefined) return;
    clientsTimer = setTimeout(() => {
      clientsTimer = undefined;
      io.emit("clients", io.engine.clientsCount);
    }, 100);
    clientsTimer.unref();
  };
  io.engine.on("connection", (session) => {
    announceClients();
    session.once("close", announceClients);
  });
  io.on("connection", (socket) => {
    socket.emit("clients", io.engine.clientsCount);
    socket.on("ping", (ack) => {
      if (typeof ack === "function") ack();
    });
  });

  return {
    server,
    io,
    dashboard,
    close: async () => {
      clearTimeout(clientsTimer);
      stopChat();
      dashboard.stop();
      const closed = io.close();
      // Pages that are still open keep reconnecting over keep-alive connections, which would
      // hold the HTTP server open: once the sessions are closed, every connection goes.
      server.closeAllConnections();
      await closed;
    },
  };
}
