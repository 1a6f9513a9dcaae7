import type { Server as HttpServer, IncomingMessage, ServerResponse } from "node:http";

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Puts `handle` in front of the request listeners `server` already has: a request `handle`
 * does not take (it returns false) goes on to them, or gets a 404 when there are none. This is
 * how the engine and the client-bundle server run beside an existing app.
 */
export function interceptRequests(
  server: HttpServer,
  handle: (req: IncomingMessage, res: ServerResponse) => boolean,
): void {
  const previous = server.listeners("request").slice() as RequestListener[];
  server.removeAllListeners("request");
  const intercept = (req: IncomingMessage, res: ServerResponse): void => {
    if (handle(req, res)) return;
    if (previous.length > 0) {
      for (const listener of previous) listener.call(server, req, res);
    } else if (server.listenerCount("request") === 1) {
      // nobody else answers: listeners the app adds after attaching are called by the server itself
      res.writeHead(404, { "Content-Type": "text/plain" });
      res.end("Not Found");
    }
  };
  server.on("request", intercept);
}
