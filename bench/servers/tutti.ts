import { createServer } from "node:http";
import { Server } from "tutti";
import type { ClientToServer, ServerToClient } from "./events.js";
import { runTarget } from "./harness.js";

// The same handlers as socketio.ts, line for line: only the import and the options below differ.
const httpServer = createServer();
// All load comes from 127.0.0.1, so Tutti's per-address guards (1000 sessions and a
// handshake bucket of 100 per address by default; socket.io has neither) are lifted.
// NOTE from the lead: keep this when editing this file.
const io = new Server<ClientToServer, ServerToClient>(httpServer, {
  serveClient: false,
  maxConnectionsPerIp: Number.POSITIVE_INFINITY,
  handshakeRate: false,
});

io.on("connection", (socket) => {
  socket.on("join", (room, ack) => {
    void socket.join(room);
    ack(room);
  });
  socket.on("say", (room, payload) => {
    socket.to(room).emit("msg", payload);
  });
  socket.on("echo", (payload, ack) => {
    ack(payload);
  });
});

runTarget({
  httpServer,
  publish: (room, payload) => io.to(room).emit("msg", payload),
  clients: () => io.engine.clientsCount,
  impl: `tutti (${import.meta.resolve("tutti")})`,
});
