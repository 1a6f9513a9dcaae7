import type { IncomingMessage, ServerResponse } from "node:http";
import type { Order, OrderInput, OrderSource } from "./events.js";
import { parseOrderInput } from "./order-input.js";

/** Largest request body `POST /api/orders` reads, in bytes. */
export const MAX_BODY_BYTES = 16 * 1024;

/** The API's error codes, sent as `{ "error": { "code", "message" } }`. */
export const ApiErrors = {
  invalid_json: 400,
  invalid_order: 400,
  not_found: 404,
  method_not_allowed: 405,
  body_too_large: 413,
  unsupported_media_type: 415,
} as const;

export type ApiErrorCode = keyof typeof ApiErrors;

export interface OrdersApi {
  latest(): Order[];
  place(input: Required<OrderInput>, source: OrderSource): Order;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(json),
    "Cache-Control": "no-store",
    ...headers,
  });
  res.end(json);
}

function sendError(res: ServerResponse, code: ApiErrorCode, message: string, headers?: Record<string, string>): void {
  sendJson(res, ApiErrors[code], { error: { code, message } }, headers);
}

/** Reads the body up to `limit` bytes; undefined when it is longer (the rest is read and dropped). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers["content-length"] ?? 0) > limit) return resolve(undefined);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else {
        chunks.length = 0;
        resolve(undefined); // answered at once; later calls to resolve do nothing
      }
    });
    req.on("end", () => resolve(size <= limit ? Buffer.concat(chunks) : undefined));
    req.on("error", reject);
  });
}

/**
 * The demo's HTTP API under /api: `GET /api/orders` lists the latest orders, `POST /api/orders`
 * places one (a JSON body checked by `parseOrderInput`; 201 with the order, which every open
 * dashboard shows at once). `path` is the request's path (`requestPath`). Returns false for a
 * path it does not own.
 */
export function handleApi(req: IncomingMessage, res: ServerResponse, path: string, api: OrdersApi): boolean {
  if (!path.startsWith("/api/")) return false;
  if (path !== "/api/orders") {
    sendError(res, "not_found", `no API at ${path}`);
  } else if (req.method === "GET" || req.method === "HEAD") {
    sendJson(res, 200, { orders: api.latest() });
  } else if (req.method === "POST") {
    void placeOrder(req, res, api);
  } else {
    sendError(res, "method_not_allowed", "use GET or POST", { Allow: "GET, HEAD, POST" });
  }
  return true;
}

async function placeOrder(req: IncomingMessage, res: ServerResponse, api: OrdersApi): Promise<void> {
  const type = req.headers["content-type"]?.split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json") {
    // an unread body would hold up the connection: close it after answering
    sendError(res, "unsupported_media_type", "send the order as application/json", { Connection: "close" });
    return;
  }
  let body: Buffer | undefined;
  try {
    body = await readBody(req, MAX_BODY_BYTES);
  } catch {
    return; // the client went away mid-body
  }
  if (body === undefined) {
    sendError(res, "body_too_large", `the body must be at most ${MAX_BODY_BYTES} bytes`, { Connection: "close" });
    return;
  }
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch {
    sendError(res, "invalid_json", "the body is not valid JSON");
    return;
  }
  const parsed = parseOrderInput(value);
  if (!parsed.ok) {
    sendError(res, "invalid_order", parsed.error);
    return;
  }
  sendJson(res, 201, { order: api.place(parsed.input, "api") });
}
