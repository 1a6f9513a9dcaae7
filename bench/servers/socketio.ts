import { createServer } from "node:http";
import { Server } from "socket.io";
import type { ClientToServer, ServerToClient } from "./events.js";
import { runTarget } from "./harness.js";

// Default options except serveClient, as the issue specifies: no tuning for the benchmark.
const httpServer = createServer();
const io = new Server<ClientToServer, ServerToClient>(httpServer, { serveClient: false });

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
  impl: `socket.io (${import.meta.resolve("socket.io")})`,
});
