import { Agent } from "node:http";
import { nowMicros, stampedPayload } from "../lib/clock.js";
import { type ConnectArgs, type LoadCommands, ROOM_PREFIX, type WindowResult } from "../lib/commands.js";
import { Histogram } from "../lib/histogram.js";
import { announceReady, serveCommands } from "../lib/ipc.js";
import type { LoadClient } from "./load-client.js";
import { PollClient } from "./poll-client.js";
import { WsClient } from "./ws-client.js";

/**
 * A load-generator process: holds its share of the clients and runs the workloads the
 * orchestrator asks for. Several run side by side so that no single event loop limits the load.
 */

/** Handshakes in flight per generator while connecting: enough to be quick, few enough not to overflow the listen backlog. */
const CONNECT_CONCURRENCY = 64;

let clients: LoadClient[] = [];
/** Clients paused by `stall`: left out of `awaitMessages`, and their loss is expected. */
const stalled = new Set<LoadClient>();
/** The room each client joined, by its global index at connect time. */
const roomOf = new Map<LoadClient, string>();
let agent: Agent | undefined;
const latency = new Histogram();
let events = 0;
let errors = 0;
/** Bumped by every window, so callbacks of an earlier window stop. */
let window = 0;

// awaitMessages: how many clients have reached the target count.
let target = 0;
let reached = 0;
let waiting: { resolve(r: WindowResult): void; reject(err: Error): void } | undefined;

function track(client: LoadClient): void {
  client.onMsg = (stamp) => {
    events++;
    if (stamp >= 0) latency.record(nowMicros() - stamp);
    if (client.received === target && !stalled.has(client) && ++reached === clients.length - stalled.size)
      waiting?.resolve(result());
  };
  client.onLost = (reason) => {
    if (stalled.has(client)) return;
    errors++;
    // A lost client never reaches the target: fail now rather than at the request's timeout.
    waiting?.reject(new Error(`a client was lost while awaiting messages: ${reason}`));
    waiting = undefined;
  };
}

function result(): WindowResult {
  return { events, latency: latency.toData(), errors };
}

function reset(): void {
  window++;
  events = 0;
  errors = 0;
  latency.reset();
  target = 0;
  reached = 0;
  waiting = undefined;
  for (const c of clients) c.received = 0;
}

function join(client: LoadClient, room: string): Promise<void> {
  return new Promise((resolve) => client.emit("join", [room], resolve));
}

async function connect(args: ConnectArgs): Promise<{ connected: number }> {
  if (args.transport === "polling" && !agent)
    agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
  let next = 0;
  const opener = async (): Promise<void> => {
    while (next < args.count) {
      const index = args.firstIndex + next++;
      const client = args.transport === "polling" && agent ? new PollClient(args.port, agent) : new WsClient(args.port);
      await client.connect();
      track(client);
      clients.push(client);
      if (args.rooms > 0) {
        const room = `${ROOM_PREFIX}${index % args.rooms}`;
        roomOf.set(client, room);
        await join(client, room);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONNECT_CONCURRENCY, args.count) }, opener));
  return { connected: clients.length };
}

function awaitMessages(perClient: number): Promise<WindowResult> {
  target = perClient;
  reached = clients.filter((c) => c.received >= perClient && !stalled.has(c)).length;
  if (reached === clients.length - stalled.size) return Promise.resolve(result());
  return new Promise((resolve, reject) => {
    waiting = { resolve, reject };
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Every client emits `echo` with an ack, the next one as soon as the ack is back. */
async function echo(durationMs: number, bytes: number): Promise<WindowResult> {
  reset();
  const mine = window;
  const payload = "x".repeat(bytes);
  for (const client of clients) {
    const loop = (): void => {
      const sent = nowMicros();
      client.emit("echo", [payload], () => {
        if (window !== mine) return;
        latency.record(nowMicros() - sent);
        events++;
        loop();
      });
    };
    loop();
  }
  await sleep(durationMs);
  const out = result();
  window++;
  return out;
}

/**
 * Every client says a stamped message to its room `perSecond` times a second, at a random phase
 * so the load is spread evenly; receivers record send-to-delivery latency.
 */
async function chat(durationMs: number, perSecond: number, bytes: number): Promise<WindowResult> {
  reset();
  const period = 1000 / perSecond;
  const timers: NodeJS.Timeout[] = [];
  clients.forEach((client) => {
    const room = roomOf.get(client) ?? `${ROOM_PREFIX}0`;
    const say = (): void => client.emit("say", [room, stampedPayload(bytes)]);
    timers.push(
      setTimeout(() => {
        say();
        timers.push(setInterval(say, period));
      }, Math.random() * period),
    );
  });
  await sleep(durationMs);
  for (const t of timers) clearTimeout(t);
  const out = result();
  window++;
  return out;
}

/** `concurrency` loops that each open a connection, wait for the Socket.IO CONNECT, and close it. */
async function handshakeLoop(port: number, durationMs: number, concurrency: number): Promise<WindowResult> {
  reset();
  const mine = window;
  const deadline = Date.now() + durationMs;
  const loop = async (): Promise<void> => {
    while (window === mine && Date.now() < deadline) {
      const client = new WsClient(port);
      const started = nowMicros();
      try {
        await client.connect();
        if (window === mine) {
          latency.record(nowMicros() - started);
          events++;
        }
      } catch {
        if (window === mine) errors++;
      }
      client.close();
    }
  };
  for (let i = 0; i < concurrency; i++) void loop();
  await sleep(durationMs);
  const out = result();
  window++;
  return out;
}

serveCommands<LoadCommands>({
  connect: (args) => connect(args),
  reset: () => {
    reset();
    return null;
  },
  awaitMessages: ({ perClient }) => awaitMessages(perClient),
  echo: ({ durationMs, bytes }) => echo(durationMs, bytes),
  chat: ({ durationMs, perSecond, bytes }) => chat(durationMs, perSecond, bytes),
  handshakeLoop: ({ port, durationMs, concurrency }) => handshakeLoop(port, durationMs, concurrency),
  stall: ({ count }) => {
    for (const client of clients.slice(-count)) {
      if (!client.stall) throw new Error("this transport cannot stall a client");
      client.stall();
      stalled.add(client);
    }
    return { stalled: stalled.size };
  },
  disconnect: () => {
    window++;
    for (const c of clients) c.terminate();
    clients = [];
    stalled.clear();
    roomOf.clear();
    agent?.destroy();
    agent = undefined;
    reset();
    return null;
  },
});

announceReady({ pid: process.pid });
