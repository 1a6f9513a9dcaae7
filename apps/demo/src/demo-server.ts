import { readFile } from "node:fs/promises";
import { createServer, type Server as HttpServer } from "node:http";
import { Server } from "tutti";

const PAGE = new URL("../public/index.html", import.meta.url);

interface ClientToServer {
  ping: (sentAt: number, ack: (sentAt: number) => void) => void;
  say: (text: string, ack: (ok: boolean) => void) => void;
}

interface ServerToClient {
  said: (from: string, text: string) => void;
  online: (count: number) => void;
}

export interface Demo {
  server: HttpServer;
  io: Server<ClientToServer, ServerToClient>;
}

/** Longest message the demo relays, in characters. */
const MAX_TEXT = 500;

/**
 * The demo: a page that connects with the official socket.io-client (served by Tutti's
 * `serveClient`), shows the connection, its transport and round trip, and relays short messages
 * to every open page. (A later issue makes it the full chat and dashboard demo.)
 */
export function createDemo(): Demo {
  const server = createServer(async (req, res) => {
    try {
      if (req.url === "/" || req.url === "/index.html") {
        res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
        res.end(await readFile(PAGE));
      } else {
        res.writeHead(404, { "Content-Type": "text/plain" });
        res.end("Not found");
      }
    } catch {
      res.writeHead(500);
      res.end();
    }
  });
  const io = new Server<ClientToServer, ServerToClient>(server);
  io.on("connection", (socket) => {
    io.emit("online", io.sockets.sockets.size);
    socket.on("ping", (sentAt, ack) => {
      if (typeof ack === "function") ack(sentAt);
    });
    socket.on("say", (text, ack) => {
      const ok = typeof text === "string" && text.length > 0 && text.length <= MAX_TEXT;
      if (ok) io.emit("said", socket.id.slice(0, 6), text);
      if (typeof ack === "function") ack(ok);
    });
    socket.on("disconnect", () => io.emit("online", io.sockets.sockets.size));
  });
  return { server, io };
}
