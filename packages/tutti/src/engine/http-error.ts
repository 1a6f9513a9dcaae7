import { type OutgoingHttpHeaders, type ServerResponse, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { type ErrorCode, ErrorCodes, type ErrorSpec } from "../errors.js";

/** The Engine.IO error body: `{code, message}`, code being the protocol's 0-5 (3 for our own). */
export function errorBody(code: ErrorCode, message?: string): string {
  const spec: ErrorSpec = ErrorCodes[code];
  return JSON.stringify({ code: spec.engineCode ?? 3, message: message ?? spec.message });
}

export function errorStatus(code: ErrorCode): number {
  const spec: ErrorSpec = ErrorCodes[code];
  return spec.status ?? 400;
}

export function sendHttpError(
  res: ServerResponse,
  code: ErrorCode,
  headers: OutgoingHttpHeaders,
  message?: string,
): void {
  if (res.headersSent || res.destroyed) return;
  const body = errorBody(code, message);
  res.writeHead(errorStatus(code), {
    ...headers,
    "Content-Type": "application/json",
    "Content-Length": String(Buffer.byteLength(body)),
  });
  res.end(body);
}

/** Refuses an upgrade request on its raw socket, before any WebSocket handshake. */
export function abortUpgrade(socket: Duplex, code: ErrorCode, message?: string): void {
  socket.on("error", () => {});
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = errorBody(code, message);
  const status = errorStatus(code);
  const statusText = STATUS_CODES[status] ?? "Bad Request";
  socket.end(
    `HTTP/1.1 ${status} ${statusText}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  socket.once("finish", () => socket.destroy());
}
