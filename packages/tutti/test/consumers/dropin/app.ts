// Code written for socket.io 4.8 the way its examples and docs write it, with only the import
// changed; dropin-types.test.ts compiles it (strict, skipLibCheck false) against the built
// declarations. All of it but the one middleware marked compiles against socket.io as well.

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { NextFunction, Request, Response } from "express";
import session from "express-session";
import { Adapter as SioAdapter } from "socket.io-adapter";
import { Server } from "tutti";

const httpServer = createServer();
const io = new Server(httpServer);

// socket.io's passport and express-session examples: express middlewares given to the engine
const sessionMiddleware = session({ secret: "changeit", resave: true, saveUninitialized: true });
function onlyForHandshake(middleware: (req: Request, res: Response, next: NextFunction) => void) {
  return (req: Request & { _query: Record<string, string> }, res: Response, next: NextFunction) => {
    const isHandshake = req._query.sid === undefined;
    if (isHandshake) middleware(req, res, next);
    else next();
  };
}
io.engine.use(onlyForHandshake(sessionMiddleware));
io.engine.use(sessionMiddleware);
io.engine.use((req, _res, next) => {
  // Tutti only: unannotated, the parameters get the engine's request type, _query included
  // (socket.io's use(fn: any) leaves them implicitly any, an error under strict)
  if (req._query.sid === undefined) next();
  else next();
});
io.engine.use((req: Request, res: Response, next: NextFunction) => {
  if (req.session) next();
  else res.status(401).end();
});

// socket.data without a declared type, as untyped apps use it
io.use((socket, next) => {
  socket.data.user = { id: 1, name: String(socket.handshake.auth.name) };
  next();
});
io.on("connection", async (socket) => {
  const id: number = socket.data.user.id;
  for (const remote of await io.fetchSockets()) console.log(id, remote.data.user.name);
});

// a catch-all listener that names the event a string
io.on("connection", (socket) => {
  socket.onAny((event: string, ...args: unknown[]) => console.log(event, args.length));
  socket.onAnyOutgoing((event: string) => console.log(event));
});

// the server the app gave, read back without a check (socket.io declares it always set)
httpServer.listen(0, () => {
  console.log((io.httpServer.address() as AddressInfo).port);
  io.httpServer.close();
});

// adapters written for socket.io: @socket.io/redis-adapter's createAdapter returns a factory of
// a socket.io-adapter subclass, typed with socket.io's namespace
function createAdapter(): (nsp: SioAdapter["nsp"]) => SioAdapter {
  // a function, not an arrow: socket.io, like Tutti, calls it with new
  // biome-ignore lint/complexity/useArrowFunction: see above
  return function (nsp) {
    return new SioAdapter(nsp);
  };
}
new Server(createServer(), { adapter: createAdapter() });
new Server({ adapter: SioAdapter });
io.adapter(SioAdapter);
