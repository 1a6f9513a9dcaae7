import type { IncomingMessage, OutgoingHttpHeaders } from "node:http";

type StaticOrigin = boolean | string | RegExp | ReadonlyArray<string | RegExp>;

/**
 * Which origins may read responses. As in the `cors` middleware that socket.io uses:
 * "*" allows any origin; `true` reflects the request's origin; a string, RegExp or list allows
 * the matching origins (others get no Access-Control-Allow-Origin header, so the browser
 * refuses the response); a function decides per request.
 */
export type CorsOrigin =
  | StaticOrigin
  | ((origin: string | undefined, callback: (err: Error | null, origin?: StaticOrigin) => void) => void);

export interface CorsOptions {
  origin?: CorsOrigin;
  /** Methods allowed in preflight. Default "GET,HEAD,PUT,PATCH,POST,DELETE". */
  methods?: string | readonly string[];
  /** Headers allowed in preflight. Default: those the preflight asks for. */
  allowedHeaders?: string | readonly string[];
  exposedHeaders?: string | readonly string[];
  credentials?: boolean;
  /** Preflight cache lifetime in seconds. */
  maxAge?: number;
  /** Status of a successful preflight. Default 204. */
  optionsSuccessStatus?: number;
}

function list(value: string | readonly string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  const joined = typeof value === "string" ? value : value.join(",");
  return joined.length > 0 ? joined : undefined;
}

function originAllowed(origin: string, allowed: StaticOrigin): boolean {
  if (typeof allowed === "boolean") return allowed;
  if (typeof allowed === "string") return allowed === origin;
  if (allowed instanceof RegExp) return allowed.test(origin);
  return allowed.some((entry) => originAllowed(origin, entry));
}

function addVary(headers: OutgoingHttpHeaders, field: string): void {
  const current = headers.Vary;
  headers.Vary = current ? `${String(current)}, ${field}` : field;
}

function originHeaders(allowed: StaticOrigin, req: IncomingMessage, headers: OutgoingHttpHeaders): void {
  const requestOrigin = req.headers.origin;
  if (allowed === "*") {
    headers["Access-Control-Allow-Origin"] = "*";
    return;
  }
  if (typeof allowed === "string") {
    headers["Access-Control-Allow-Origin"] = allowed;
  } else if (requestOrigin !== undefined && originAllowed(requestOrigin, allowed)) {
    headers["Access-Control-Allow-Origin"] = requestOrigin;
  }
  addVary(headers, "Origin");
}

export interface CorsResult {
  headers: OutgoingHttpHeaders;
  /** True when the request is a preflight that has been fully answered by these headers. */
  preflight: boolean;
  status: number;
}

/** Computes the CORS headers for a request; calls back once the origin has been decided. */
export function resolveCors(
  options: CorsOptions,
  req: IncomingMessage,
  callback: (err: Error | null, result?: CorsResult) => void,
): void {
  const finish = (allowed: StaticOrigin | undefined): void => {
    const headers: OutgoingHttpHeaders = {};
    const preflight = req.method === "OPTIONS";
    if (allowed === false) {
      callback(null, { headers, preflight: false, status: 200 });
      return;
    }
    originHeaders(allowed ?? "*", req, headers);
    if (options.credentials === true) headers["Access-Control-Allow-Credentials"] = "true";
    const exposed = list(options.exposedHeaders);
    if (exposed) headers["Access-Control-Expose-Headers"] = exposed;
    if (preflight) {
      headers["Access-Control-Allow-Methods"] = list(options.methods) ?? "GET,HEAD,PUT,PATCH,POST,DELETE";
      const allowedHeaders = list(options.allowedHeaders);
      if (allowedHeaders) {
        headers["Access-Control-Allow-Headers"] = allowedHeaders;
      } else {
        const requested = req.headers["access-control-request-headers"];
        if (requested) headers["Access-Control-Allow-Headers"] = requested;
        addVary(headers, "Access-Control-Request-Headers");
      }
      if (options.maxAge !== undefined) headers["Access-Control-Max-Age"] = String(options.maxAge);
      headers["Content-Length"] = "0";
    }
    callback(null, { headers, preflight, status: options.optionsSuccessStatus ?? 204 });
  };

  const origin = options.origin;
  if (typeof origin === "function") {
    let called = false;
    origin(req.headers.origin, (err, allowed) => {
      if (called) return;
      called = true;
      if (err) callback(err);
      else finish(allowed ?? false);
    });
  } else {
    finish(origin);
  }
}
