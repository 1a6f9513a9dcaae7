import { readdir, readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join, relative, sep } from "node:path";

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".webmanifest": "application/manifest+json",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

/**
 * The path of a request: its URL up to the query, as sent. It is only ever looked up, never
 * resolved against a base (a URL such as `//a:b` is no valid URL there) nor against the disk.
 */
export function requestPath(req: IncomingMessage): string {
  const url = req.url ?? "/";
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}

interface StaticFile {
  body: Buffer;
  type: string;
  cacheControl: string;
}

/** The built front end, held in memory and served by URL path; nothing outside it is reachable. */
export class StaticFiles {
  readonly #files: ReadonlyMap<string, StaticFile>;

  private constructor(files: ReadonlyMap<string, StaticFile>) {
    this.#files = files;
  }

  /**
   * Reads every file under `dir` (Vite's output, a few hundred kB). Files under assets/ have a
   * content hash in their names, so browsers may keep them for good; the rest are revalidated.
   */
  static async load(dir: string): Promise<StaticFiles> {
    const files = new Map<string, StaticFile>();
    for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const path = join(entry.parentPath, entry.name);
      const url = `/${relative(dir, path).split(sep).join("/")}`;
      files.set(url, {
        body: await readFile(path),
        type: CONTENT_TYPES[extname(entry.name)] ?? "application/octet-stream",
        cacheControl: url.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-cache",
      });
    }
    if (!files.has("/index.html")) throw new Error(`${dir} has no index.html: build the front end first`);
    return new StaticFiles(files);
  }

  /**
   * Answers a GET or HEAD for the file at `path` (`requestPath`), if it holds one; returns false,
   * sending nothing, for anything else.
   */
  serve(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    const file = this.#files.get(path === "/" ? "/index.html" : path);
    if (file === undefined) return false;
    res.writeHead(200, {
      "Content-Type": file.type,
      "Content-Length": file.body.length,
      "Cache-Control": file.cacheControl,
      "X-Content-Type-Options": "nosniff",
    });
    res.end(req.method === "HEAD" ? undefined : file.body);
    return true;
  }
}
