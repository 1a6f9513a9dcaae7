import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { Duplex } from "node:stream";
import { type RawData, type WebSocket, WebSocketServer } from "ws";
import { runTarget } from "./harness.js";
import { frameText } from "./ws-frame.js";
import { CoalescingWriter } from "./ws-writer.js";

/**
 * The raw baseline: the benchmark app speaking Engine.IO v4 + Socket.IO v5 by hand over `ws`,
 * WebSocket transport only, namespace "/" only, no binary. Each broadcast is encoded and framed
 * once and the frame reused for every recipient; writes are coalesced per event-loop turn.
 * Timings match the other two servers' defaults.
 */
const PING_INTERVAL = 25_000;
const PING_TIMEOUT = 20_000;
const MAX_PAYLOAD = 1_000_000;

/**
 * How frames reach the socket. "cork" (default, measured fastest): pre-framed buffers, coalesced
 * per turn. "direct": pre-framed buffers, one write each. "send": `ws.send` of the shared encoded
 * buffer, which frames it again for each recipient.
 */
const WRITE_MODE = process.env.BENCH_WS_WRITE ?? "cork";

class Connection {
  readonly rooms = new Set<string>();
  /** Set by a pong, cleared by each ping; a ping that finds it clear ends the connection. */
  alive = true;
  /** Socket.IO CONNECT received. */
  joined = false;
  corked = false;

  constructor(
    readonly ws: WebSocket,
    readonly socket: Duplex,
  ) {}
}

const rooms = new Map<string, Set<Connection>>();
const connections = new Set<Connection>();
const writer = new CoalescingWriter();

const id = (): string => randomBytes(15).toString("base64url");

function sendFrame(conn: Connection, frame: Buffer, encoded: Buffer): void {
  if (WRITE_MODE === "cork") writer.write(conn, frame);
  else if (WRITE_MODE === "direct") conn.socket.write(frame);
  else conn.ws.send(encoded, { binary: false });
}

function sendText(conn: Connection, text: string): void {
  const encoded = Buffer.from(text);
  sendFrame(conn, frameText(encoded), encoded);
}

/** Encodes and frames `msg(payload)` once, then hands the same frame to every member. */
function broadcast(room: string, payload: string, except?: Connection): void {
  const members = rooms.get(room);
  if (!members) return;
  const encoded = Buffer.from(`42${JSON.stringify(["msg", payload])}`);
  const frame = frameText(encoded);
  for (const conn of members) if (conn !== except) sendFrame(conn, frame, encoded);
}

function join(conn: Connection, room: string): void {
  let members = rooms.get(room);
  if (!members) {
    members = new Set();
    rooms.set(room, members);
  }
  members.add(conn);
  conn.rooms.add(room);
}

function leaveAll(conn: Connection): void {
  for (const room of conn.rooms) {
    const members = rooms.get(room);
    members?.delete(conn);
    if (members?.size === 0) rooms.delete(room);
  }
  conn.rooms.clear();
  connections.delete(conn);
}

function onEvent(conn: Connection, args: unknown[], ackId: number): void {
  const [event, first, second] = args;
  const ack = (...values: unknown[]): void => {
    if (ackId >= 0) sendText(conn, `43${ackId}${JSON.stringify(values)}`);
  };
  if (event === "join" && typeof first === "string") {
    join(conn, first);
    ack(first);
  } else if (event === "say" && typeof first === "string" && typeof second === "string") {
    broadcast(first, second, conn);
  } else if (event === "echo") {
    ack(first);
  }
}

/** Socket.IO packets inside an Engine.IO message (the leading "4" already stripped). */
function onSocketIoPacket(conn: Connection, text: string): void {
  const type = text[0];
  if (text[1] === "/") {
    // Only the main namespace exists here.
    if (type === "0") sendText(conn, `44${text.slice(1, text.indexOf(",") + 1)}{"message":"Invalid namespace"}`);
    return;
  }
  if (type === "0") {
    conn.joined = true;
    sendText(conn, `40{"sid":"${id()}"}`);
  } else if (type === "2" && conn.joined) {
    let i = 1;
    let ackId = -1;
    for (let c = text.charCodeAt(i); c >= 48 && c <= 57; c = text.charCodeAt(++i))
      ackId = (ackId < 0 ? 0 : ackId * 10) + c - 48;
    let args: unknown;
    try {
      args = JSON.parse(text.slice(i));
    } catch {
      conn.ws.close(1003);
      return;
    }
    if (Array.isArray(args)) onEvent(conn, args, ackId);
  } else if (type === "1") {
    conn.ws.close();
  }
}

function onConnection(ws: WebSocket, socket: Duplex): void {
  const conn = new Connection(ws, socket);
  connections.add(conn);
  ws.on("message", (data: RawData, isBinary: boolean) => {
    if (isBinary) return;
    const text = data.toString();
    if (text === "3") conn.alive = true;
    else if (text[0] === "4") onSocketIoPacket(conn, text.slice(1));
    else if (text[0] === "1") ws.close();
  });
  ws.on("close", () => leaveAll(conn));
  ws.on("error", () => ws.terminate());
  sendText(
    conn,
    `0${JSON.stringify({ sid: id(), upgrades: [], pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT, maxPayload: MAX_PAYLOAD })}`,
  );
}

/**
 * One timer for every connection instead of one per connection. A client that has not ponged
 * the previous ping by the next round is dropped, so the timeout is one interval rather than
 * pingTimeout: looser, and cheaper.
 */
const PING = Buffer.from("2");
const PING_FRAME = frameText(PING);
setInterval(() => {
  for (const conn of connections) {
    if (!conn.alive) {
      conn.ws.terminate();
      continue;
    }
    conn.alive = false;
    sendFrame(conn, PING_FRAME, PING);
  }
}, PING_INTERVAL);

const httpServer = createServer((_req, res) => {
  res.writeHead(400, { "content-type": "application/json" });
  res.end('{"code":0,"message":"Transport unknown"}');
});
const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD, clientTracking: false });
httpServer.on("upgrade", (req, socket, head) => {
  const url = new URL(req.url ?? "/", "http://localhost");
  if (
    url.pathname !== "/socket.io/" ||
    url.searchParams.get("EIO") !== "4" ||
    url.searchParams.get("transport") !== "websocket"
  ) {
    socket.destroy();
    return;
  }
  // The Duplex handed to handleUpgrade is the one ws writes to: we get it without touching ws internals.
  wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, socket));
});

runTarget({
  httpServer,
  publish: (room, payload) => broadcast(room, payload),
  clients: () => connections.size,
  impl: `raw ws (write mode ${WRITE_MODE})`,
});
