import { readFile } from "node:fs/promises";
import type { Server as HttpServer, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { join } from "node:path";
import { promisify } from "node:util";
import { brotliCompress, deflate, gzip } from "node:zlib";
import Negotiator from "negotiator";
import { type CorsOptions, resolveCors } from "../engine/cors.js";
import { interceptRequests } from "../engine/intercept-requests.js";
import clientDist from "./client-dist.cjs";

/** The bundles socket.io 4.8 serves, each with its source map. */
const FILES: ReadonlySet<string> = new Set(
  ["socket.io.js", "socket.io.min.js", "socket.io.msgpack.min.js", "socket.io.esm.min.js"].flatMap((file) => [
    file,
    `${file}.map`,
  ]),
);

type Encoding = "br" | "gzip" | "deflate" | "identity";

const COMPRESSORS: Record<Exclude<Encoding, "identity">, (data: Buffer) => Promise<Buffer>> = {
  br: promisify(brotliCompress),
  gzip: promisify(gzip),
  deflate: promisify(deflate),
};

type ClientDist = NonNullable<ReturnType<typeof clientDist.locateClientDist>>;

/**
 * Serves the socket.io-client browser bundles under the server's path (`serveClient`), as
 * socket.io does, from the `socket.io-client` package that "tutti" depends on: with the
 * server's CORS headers, an ETag (the client's version), and br/gzip/deflate as the browser
 * accepts. Should the package be missing (an install that pruned it), those requests go on to
 * the engine and the app like any other.
 */
export class ClientFileServer {
  readonly #prefix: string;
  readonly #cors: CorsOptions | false;
  #dist: ClientDist | undefined | null = null;
  /** Bodies by file and encoding; a handful of static files, each read and compressed once. */
  readonly #bodies = new Map<string, Promise<Buffer>>();

  constructor(prefix: string, cors: CorsOptions | false) {
    this.#prefix = prefix;
    this.#cors = cors;
  }

  attach(server: HttpServer): void {
    interceptRequests(server, (req, res) => this.#serve(req, res));
  }

  #serve(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url ?? "";
    if ((req.method !== "GET" && req.method !== "HEAD") || !url.startsWith(this.#prefix)) return false;
    const name = url.slice(this.#prefix.length).split("?")[0] ?? "";
    if (!FILES.has(name)) return false;
    if (this.#dist === null) this.#dist = clientDist.locateClientDist();
    const dist = this.#dist;
    if (dist === undefined) return false;
    if (this.#cors) {
      resolveCors(this.#cors, req, (err, result) => {
        if (err || result === undefined) {
          res.writeHead(403, { "Content-Type": "text/plain" });
          res.end("Forbidden");
        } else this.#send(req, res, dist, name, result.headers);
      });
    } else this.#send(req, res, dist, name, {});
    return true;
  }

  #send(req: IncomingMessage, res: ServerResponse, dist: ClientDist, name: string, headers: OutgoingHttpHeaders): void {
    const etag = `"${dist.version}"`;
    if (matchesEtag(req.headers["if-none-match"], etag)) {
      res.writeHead(304, { ...headers, ETag: etag });
      res.end();
      return;
    }
    const encoding = (new Negotiator(req).encoding(["br", "gzip", "deflate", "identity"]) ?? "identity") as Encoding;
    this.#body(join(dist.dir, name), encoding).then(
      (body) => {
        const out: OutgoingHttpHeaders = {
          ...headers,
          "Content-Type": name.endsWith(".map")
            ? "application/json; charset=utf-8"
            : "application/javascript; charset=utf-8",
          "Cache-Control": "public, max-age=0",
          ETag: etag,
          // keep CORS's "Vary: Origin": the answer differs by origin and by encoding
          Vary: headers.Vary === undefined ? "Accept-Encoding" : `${String(headers.Vary)}, Accept-Encoding`,
        };
        if (encoding !== "identity") out["Content-Encoding"] = encoding;
        res.writeHead(200, { ...out, "Content-Length": body.length });
        res.end(req.method === "HEAD" ? undefined : body);
      },
      () => {
        res.writeHead(404, { "Content-Type": "text/plain" });
        res.end("Not Found");
      },
    );
  }

  #body(path: string, encoding: Encoding): Promise<Buffer> {
    const key = `${encoding}:${path}`;
    let body = this.#bodies.get(key);
    if (body === undefined) {
      const raw = readFile(path);
      body = encoding === "identity" ? raw : raw.then((data) => COMPRESSORS[encoding](data));
      // a failed read is not cached: the file may appear later
      body.catch(() => this.#bodies.delete(key));
      this.#bodies.set(key, body);
    }
    return body;
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
