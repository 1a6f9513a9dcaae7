// A node:cluster worker for sio-adapters-cluster.test.ts: one Tutti server on
// @socket.io/cluster-adapter, driven by its primary over IPC. Run outside a cluster (no
// process.send), it reports what io.adapter() does with that adapter, and exits.
import type { AddressInfo } from "node:net";
import { createAdapter } from "@socket.io/cluster-adapter";
import { type AdapterConstructor, Server, TuttiError } from "../src/index.js";

if (process.send === undefined) {
  const io = new Server();
  try {
    io.adapter(createAdapter() as unknown as AdapterConstructor);
    console.log(JSON.stringify({ accepted: true }));
  } catch (err) {
    console.log(
      JSON.stringify({ code: err instanceof TuttiError ? err.code : undefined, message: (err as Error).message }),
    );
  }
  // the refused adapter's own timers (socket.io leaks them too) would keep the process alive
  process.exit(0);
}

/** What the primary asks of this worker; each request is answered with `{ reply: id, ... }`. */
type Request =
  | { id: number; op: "emit"; room: string; event: string; args: unknown[] }
  | { id: number; op: "fetch"; room: string }
  | { id: number; op: "serverSideEmitWithAck"; event: string; args: unknown[] }
  | { id: number; op: "broadcastWithAck"; room: string; event: string; timeout: number }
  | { id: number; op: "socketsJoin"; room: string; join: string }
  | { id: number; op: "disconnect"; room: string }
  | { id: number; op: "serverCount" };

const send = (message: unknown): void => {
  process.send?.(message);
};

const io = new Server({ adapter: createAdapter() as unknown as AdapterConstructor });
io.on("connection", (socket) => {
  socket.on("join", (rooms: string[], ack: () => void) => {
    socket.join(rooms);
    ack();
  });
});
io.on("double", (n: number, ack: (answer: number) => void) => ack(n * 2));

process.on("message", async (raw: unknown) => {
  const request = raw as Request & { source?: string };
  if (request.source !== undefined || typeof request.op !== "string") return; // the adapter's own messages
  switch (request.op) {
    case "emit":
      io.to(request.room).emit(request.event, ...request.args);
      send({ reply: request.id });
      break;
    case "fetch": {
      const sockets = await io.in(request.room).fetchSockets();
      send({ reply: request.id, sockets: sockets.map((s) => ({ id: s.id, rooms: [...s.rooms].sort() })) });
      break;
    }
    case "serverSideEmitWithAck": {
      const answers = await (io.serverSideEmitWithAck as (ev: string, ...args: unknown[]) => Promise<unknown[]>)(
        request.event,
        ...request.args,
      );
      send({ reply: request.id, answers });
      break;
    }
    case "broadcastWithAck":
      io.to(request.room)
        .timeout(request.timeout)
        .emit(request.event, (err: Error | null, responses: unknown[]) => {
          send({ reply: request.id, error: err?.message ?? null, responses });
        });
      break;
    case "socketsJoin":
      io.in(request.room).socketsJoin(request.join);
      send({ reply: request.id });
      break;
    case "disconnect":
      io.in(request.room).disconnectSockets();
      send({ reply: request.id });
      break;
    case "serverCount":
      send({ reply: request.id, count: await io.of("/").adapter.serverCount() });
      break;
  }
});

const { createServer } = await import("node:http");
const httpServer = createServer();
io.attach(httpServer);
// exclusive: this worker's own port, not one shared through the primary
httpServer.listen({ port: 0, host: "127.0.0.1", exclusive: true }, () => {
  send({ ready: (httpServer.address() as AddressInfo).port });
});
