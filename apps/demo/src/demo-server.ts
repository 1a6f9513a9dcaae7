import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import { EngineServer } from "tutti";

const require = createRequire(import.meta.url);
const CLIENT_BUNDLE = require.resolve("engine.io-client/dist/engine.io.min.js");
const PAGE = new URL("../public/index.html", import.meta.url);

export interface Demo {
  server: Server;
  engine: EngineServer;
}

/**
 * The demo: a page that connects with the official Engine.IO client, shows the connection and
 * its transport, and measures the round trip with an echo. (A later issue makes it the real demo.)
 */
export function createDemo(): Demo {
  const server = createServer(async (req, res) => {
    try {
      if (req.url === "/" || req.url === "/index.html") {
        res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
        res.end(await readFile(PAGE));
      } else if (req.url === "/engine.io.min.js") {
        res.writeHead(200, { "Content-Type": "text/javascript; charset=utf-8" });
        res.end(await readFile(CLIENT_BUNDLE));
      } else {
        res.writeHead(404, { "Content-Type": "text/plain" });
        res.end("Not found");
      }
    } catch {
      res.writeHead(500);
      res.end();
    }
  });
  const engine = new EngineServer().attach(server);
  engine.on("connection", (session) => {
    session.on("message", (data) => {
      // "ping:<n>" is echoed so the page can measure the round trip; anything else is answered
      session.send(typeof data === "string" && data.startsWith("ping:") ? data : `echo:${String(data)}`);
    });
  });
  return { server, engine };
}
