import { readFile } from "node:fs/promises";
import type { Server as HttpServer, IncomingMessage, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** The bundles socket.io serves: `socket.io(.msgpack|.esm)?(.min)?.js(.map)?`. */
const FILE = /^socket\.io(\.msgpack|\.esm)?(\.min)?\.js(\.map)?$/;

interface ClientDist {
  readonly dir: string;
  readonly version: string;
}

/** Finds an installed socket.io-client; Tutti does not depend on it. */
function locateClient(): ClientDist | undefined {
  try {
    const require = createRequire(import.meta.url);
    const pkgPath = require.resolve("socket.io-client/package.json");
    const pkg = require(pkgPath) as { version?: string };
    return { dir: join(dirname(pkgPath), "dist"), version: pkg.version ?? "0" };
  } catch {
    return undefined;
  }
}

/**
 * Serves the socket.io-client browser bundle under the server's path (`serveClient`), as
 * socket.io does, when the `socket.io-client` package is installed beside Tutti. Without it,
 * those requests go on to the engine and the app like any other.
 */
export class ClientFileServer {
  readonly #prefix: string;
  #dist: ClientDist | undefined | null = null;

  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  attach(server: HttpServer): void {
    const previous = server.listeners("request").slice() as Array<(req: IncomingMessage, res: ServerResponse) => void>;
    server.removeAllListeners("request");
    server.on("request", (req: IncomingMessage, res: ServerResponse) => {
      if (!this.#serve(req, res)) for (const listener of previous) listener.call(server, req, res);
    });
  }

  #serve(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url ?? "";
    if (req.method !== "GET" || !url.startsWith(this.#prefix)) return false;
    const name = url.slice(this.#prefix.length).split("?")[0] ?? "";
    if (!FILE.test(name)) return false;
    if (this.#dist === null) this.#dist = locateClient();
    const dist = this.#dist;
    if (dist === undefined) return false;
    const etag = `"${dist.version}"`;
    if (matchesEtag(req.headers["if-none-match"], etag)) {
      res.writeHead(304);
      res.end();
      return true;
    }
    readFile(join(dist.dir, name)).then(
      (body) => {
        res.writeHead(200, {
          "Content-Type": name.endsWith(".map") ? "application/json" : "application/javascript; charset=utf-8",
          "Cache-Control": "public, max-age=0",
          ETag: etag,
        });
        res.end(body);
      },
      () => {
        res.writeHead(404, { "Content-Type": "text/plain" });
        res.end("Not Found");
      },
    );
    return true;
  }
}

/** If-None-Match holds a list of tags, weak (`W/"..."`) or strong; `*` matches any. */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(",").some((tag) => {
    const trimmed = tag.trim();
    return trimmed === "*" || trimmed === etag || trimmed === `W/${etag}`;
  });
}
