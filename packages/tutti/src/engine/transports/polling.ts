import { isUtf8 } from "node:buffer";
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { deflate, gzip } from "node:zlib";
import Negotiator from "negotiator";
import { type Clock, unrefTimer } from "../../clock.js";
import { decodePayload, encodePayloadPacket, RECORD_SEPARATOR } from "../../protocol/engine-packet.js";
import { sendHttpError } from "../http-error.js";
import type { CloseMode, QueuedPacket, Transport, TransportHandler } from "../transport.js";

export interface PollingLimits {
  maxHttpBufferSize: number;
  httpCompression: false | { threshold: number };
  /** Grace a response written before close gets to reach the client before its socket is destroyed. */
  pingTimeout: number;
  clock: Clock;
}

/**
 * The most bytes of queued packets in one response (one packet always goes): each response body
 * is a copy for one client, so a burst to many polling clients is answered in parts while the
 * rest waits in each session's queue as shared references; 256 KiB still carries a 1 MiB
 * recovery replay in four polls.
 */
const BATCH_BYTES = 256 * 1024;

const NOOP = encodePayloadPacket({ type: "noop" });
const CLOSE = encodePayloadPacket({ type: "close" });

const NO_HANDLER: TransportHandler = {
  onPacket() {},
  onParseError() {},
  onTransportError() {},
  onTransportClose() {},
  onWritable() {},
};

interface PendingGet {
  req: IncomingMessage;
  res: ServerResponse;
  headers: OutgoingHttpHeaders;
}

/**
 * HTTP long-polling: a held GET carries packets to the client, a POST brings the client's
 * packets. At most one of each is active; an overlapping one is a protocol error.
 */
export class PollingTransport implements Transport {
  readonly name = "polling" as const;
  readonly batchBytes = BATCH_BYTES;
  handler: TransportHandler = NO_HANDLER;
  readonly #limits: PollingLimits;
  #get: PendingGet | undefined;
  /** The POST being received (at most one), destroyed if the session closes before it ends. */
  #post: IncomingMessage | undefined;
  /** The last response written, which may still be on its way when the session closes. */
  #lastResponse: ServerResponse | undefined;
  #closed = false;
  /** Set once the client has probed a WebSocket: GETs are answered with a noop from then on. */
  #upgrading = false;
  /**
   * Bytes of responses written and not yet handed to the kernel in full. A client that polls
   * again on a new connection without reading the last response would otherwise make the
   * server hold any amount for it: counted, the session's buffer limit applies.
   */
  #unsent = 0;

  constructor(limits: PollingLimits) {
    this.#limits = limits;
  }

  get writable(): boolean {
    return this.#get !== undefined && !this.#upgrading && !this.#closed;
  }

  get bufferedAmount(): number {
    return this.#unsent;
  }

  /** Handles one GET or POST for this session. `headers` holds CORS and app headers. */
  onRequest(req: IncomingMessage, res: ServerResponse, headers: OutgoingHttpHeaders): void {
    if (req.method === "GET") this.#onPoll(req, res, headers);
    else if (req.method === "POST") this.#onData(req, res, headers);
    else sendHttpError(res, "BAD_REQUEST", headers);
  }

  #onPoll(req: IncomingMessage, res: ServerResponse, headers: OutgoingHttpHeaders): void {
    if (this.#closed) {
      sendHttpError(res, "SESSION_ID_UNKNOWN", headers);
      return;
    }
    if (this.#get !== undefined) {
      // Spec: a second concurrent GET is an error that closes the session.
      sendHttpError(res, "BAD_REQUEST", headers);
      this.handler.onTransportError("overlapping polling GET");
      return;
    }
    const pending: PendingGet = { req, res, headers };
    this.#get = pending;
    res.on("close", () => {
      if (this.#lastResponse === res) this.#lastResponse = undefined;
      if (this.#get === pending) {
        this.#get = undefined;
        if (!res.writableFinished) this.handler.onTransportError("polling GET closed prematurely");
      }
    });
    if (this.#upgrading) {
      this.#write([NOOP], undefined);
      return;
    }
    this.handler.onWritable();
  }

  #onData(req: IncomingMessage, res: ServerResponse, headers: OutgoingHttpHeaders): void {
    if (this.#post !== undefined) {
      sendHttpError(res, "BAD_REQUEST", headers);
      this.handler.onTransportError("overlapping polling POST");
      return;
    }
    if (req.headers["content-type"]?.startsWith("application/octet-stream")) {
      // v4 payloads are always text; binary travels as base64 inside them.
      sendHttpError(res, "BAD_REQUEST", headers);
      this.handler.onParseError("binary polling body");
      return;
    }
    const max = this.#limits.maxHttpBufferSize;
    const declared = Number(req.headers["content-length"]);
    if (declared > max) {
      res.setHeader("Connection", "close");
      sendHttpError(res, "PAYLOAD_TOO_LARGE", headers);
      req.resume();
      return;
    }
    this.#post = req;
    const chunks: Buffer[] = [];
    let length = 0;
    let refused = false;
    const done = (): void => {
      if (this.#post === req) this.#post = undefined;
    };
    req.on("data", (chunk: Buffer) => {
      if (refused) return;
      length += chunk.length;
      if (length > max) {
        refused = true;
        chunks.length = 0;
        done();
        res.setHeader("Connection", "close");
        sendHttpError(res, "PAYLOAD_TOO_LARGE", headers);
        res.on("finish", () => req.destroy());
        return;
      }
      chunks.push(chunk);
    });
    req.on("error", () => {
      if (refused) return;
      refused = true;
      done();
      this.handler.onTransportError("polling POST failed");
    });
    req.on("end", () => {
      if (refused) return;
      done();
      const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
      if (this.#closed) {
        sendHttpError(res, "SESSION_ID_UNKNOWN", headers);
        return;
      }
      const packets = isUtf8(body) ? decodePayload(body.toString("utf8")) : undefined;
      if (packets === undefined) {
        sendHttpError(res, "BAD_REQUEST", headers);
        this.handler.onParseError("invalid polling payload");
        return;
      }
      res.writeHead(200, {
        ...headers,
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Length": "2",
        "Cache-Control": "no-store",
      });
      res.end("ok");
      for (const packet of packets) {
        if (this.#closed) break;
        this.handler.onPacket(packet);
      }
    });
  }

  send(packets: readonly QueuedPacket[]): void {
    const list: string[] = new Array(packets.length);
    let compress = false;
    const callbacks: Array<() => void> = [];
    for (let i = 0; i < packets.length; i++) {
      const item = packets[i] as QueuedPacket;
      list[i] = item.prepared !== undefined ? item.prepared.pollingRecord() : encodePayloadPacket(item.packet);
      if (item.compress) compress = true;
      if (item.callback) callbacks.push(item.callback);
    }
    this.#write(list, callbacks.length > 0 ? callbacks : undefined, compress);
  }

  /** Stops answering GETs with data: the client is moving to WebSocket. */
  pause(): void {
    this.#upgrading = true;
    if (this.#get !== undefined) this.#write([NOOP], undefined);
  }

  /** The upgrade failed; polling carries on. */
  resume(): void {
    this.#upgrading = false;
  }

  close(mode: CloseMode): void {
    if (this.#closed) return;
    if (this.#get !== undefined) this.#write([mode === "client" ? NOOP : CLOSE], undefined);
    this.#closed = true;
    this.handler = NO_HANDLER;
    // A POST still arriving has nobody to deliver to: its connection goes, as in engine.io.
    if (this.#post !== undefined) {
      this.#post.destroy();
      this.#post = undefined;
    }
    // A response the client does not read must not hold its socket and bytes forever.
    const last = this.#lastResponse;
    this.#lastResponse = undefined;
    if (last !== undefined && !last.writableFinished && !last.destroyed) {
      const clock = this.#limits.clock;
      const timer = clock.setTimeout(() => last.destroy(), this.#limits.pingTimeout);
      unrefTimer(timer);
      last.once("close", () => clock.clearTimeout(timer));
    }
  }

  #write(records: readonly string[], callbacks: Array<() => void> | undefined, compress = false): void {
    const pending = this.#get;
    if (pending === undefined) return;
    this.#get = undefined;
    const { req, res, headers } = pending;
    this.#lastResponse = res;
    const payload = records.length === 1 ? (records[0] as string) : records.join(RECORD_SEPARATOR);
    const body = Buffer.from(payload, "utf8");
    // uncounted on "close", which a response emits once done (just after "finish") or destroyed
    const size = body.length;
    this.#unsent += size;
    res.once("close", () => {
      this.#unsent -= size;
    });
    const out: OutgoingHttpHeaders = {
      ...headers,
      "Content-Type": "text/plain; charset=UTF-8",
      "Cache-Control": "no-store",
    };
    if (callbacks) {
      res.on("finish", () => {
        for (const cb of callbacks) cb();
      });
    }
    const compression = this.#limits.httpCompression;
    const encoding = compression && compress && body.length >= compression.threshold ? pickEncoding(req) : undefined;
    if (encoding === undefined) {
      out["Content-Length"] = String(body.length);
      res.writeHead(200, out);
      res.end(body);
      return;
    }
    const compressor = encoding === "gzip" ? gzip : deflate;
    compressor(body, (err, compressed) => {
      if (res.destroyed) return;
      if (err) {
        res.writeHead(500, headers);
        res.end();
        return;
      }
      out["Content-Encoding"] = encoding;
      out["Content-Length"] = String(compressed.length);
      res.writeHead(200, out);
      res.end(compressed);
    });
  }
}

const ENCODINGS = ["gzip", "deflate"];

/** The client's preferred encoding among ours, honouring q-values (`gzip;q=0` refuses gzip). */
function pickEncoding(req: IncomingMessage): "gzip" | "deflate" | undefined {
  if (!req.headers["accept-encoding"]) return undefined;
  const chosen = new Negotiator(req).encoding(ENCODINGS);
  return chosen === "gzip" || chosen === "deflate" ? chosen : undefined;
}
