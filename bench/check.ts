import { pathToFileURL } from "node:url";
import { io, type Socket } from "socket.io-client";
import type { Transport } from "./lib/commands.js";
import { type ServerPeer, startTarget, TARGETS, type TargetSpec } from "./lib/targets.js";

/**
 * Checks each target with the official socket.io-client before anything is measured: a server
 * that got faster by getting something wrong must fail here, not win a table.
 * Run alone with `node --import tsx bench/check.ts`.
 */

const TIMEOUT_MS = 5_000;

function fail(what: string): never {
  throw new Error(what);
}

function connectClient(port: number, transport: Transport): Promise<Socket> {
  const socket = io(`http://127.0.0.1:${port}`, { transports: [transport], forceNew: true, reconnection: false });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", reject);
  });
}

/** Collects the next `n` msg payloads of `socket`. */
function nextMessages(socket: Socket, n: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const got: string[] = [];
    const timer = setTimeout(() => reject(new Error(`got ${got.length} of ${n} messages`)), TIMEOUT_MS);
    const onMsg = (payload: string): void => {
      got.push(payload);
      if (got.length < n) return;
      clearTimeout(timer);
      socket.off("msg", onMsg);
      resolve(got);
    };
    socket.on("msg", onMsg);
  });
}

async function checkApp(peer: ServerPeer, port: number, transport: Transport): Promise<void> {
  const [a, b, outsider] = await Promise.all([1, 2, 3].map(() => connectClient(port, transport)));
  if (!a || !b || !outsider) fail("clients did not connect");
  try {
    if (transport === "polling" && a.io.engine.transport.name !== "polling") fail("not on polling");
    const joined = await Promise.all([a, b].map((s) => s.timeout(TIMEOUT_MS).emitWithAck("join", "room-check")));
    if (joined.some((r) => r !== "room-check")) fail(`join acked ${JSON.stringify(joined)}`);

    // say: the other member gets it; the sender must not, which the echo ack behind it proves,
    // since one connection delivers in order.
    let senderGotOwn = false;
    let outsiderGot = false;
    const onOwn = (): void => {
      senderGotOwn = true;
    };
    const onOutsider = (): void => {
      outsiderGot = true;
    };
    a.on("msg", onOwn);
    outsider.on("msg", onOutsider);
    const heard = nextMessages(b, 1);
    a.emit("say", "room-check", "hello room");
    if ((await heard)[0] !== "hello room") fail("say did not reach the room");
    const echoed = await a.timeout(TIMEOUT_MS).emitWithAck("echo", "ping é ✓");
    if (echoed !== "ping é ✓") fail(`echo acked ${JSON.stringify(echoed)}`);
    const object = { n: 1, list: [true, null, "x"] };
    if (JSON.stringify(await a.timeout(TIMEOUT_MS).emitWithAck("echo", object)) !== JSON.stringify(object)) {
      fail("echo of an object changed it");
    }
    await outsider.timeout(TIMEOUT_MS).emitWithAck("echo", 0);
    a.off("msg", onOwn);
    if (senderGotOwn) fail("say reached its sender");

    // The publisher: every member gets every message, in order, each stamped.
    const count = 20;
    const [atA, atB] = await Promise.all([
      nextMessages(a, count),
      nextMessages(b, count),
      peer.request("publish", { room: "room-check", count, burst: 7, bytes: 100 }),
    ]);
    for (const got of [atA, atB]) {
      const stamps = got.map((p) => Number(p.split(" ")[0]));
      if (got.some((p) => p.length !== 100)) fail("published payload is not 100 bytes");
      if (stamps.some((s, i) => !(s > 0) || (i > 0 && s < (stamps[i - 1] as number)))) fail("published out of order");
    }
    await outsider.timeout(TIMEOUT_MS).emitWithAck("echo", 0);
    if (outsiderGot) fail("a broadcast reached a socket outside the room");
  } finally {
    for (const s of [a, b, outsider]) s.disconnect();
  }
}

/** Checks the targets side by side: each has its own server process and clients. */
export async function checkTargets(targets: readonly TargetSpec[] = TARGETS): Promise<void> {
  await Promise.all(targets.map((spec) => checkTarget(spec)));
}

async function checkTarget(spec: TargetSpec): Promise<void> {
  const transports: Transport[] = spec.polling ? ["websocket", "polling"] : ["websocket"];
  const { peer, ready } = await startTarget(spec);
  try {
    for (const transport of transports) {
      try {
        await checkApp(peer, ready.port, transport);
      } catch (err) {
        throw new Error(`${spec.label} over ${transport}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    console.log(`check ${spec.label}: ok (${transports.join(", ")}) — ${ready.impl}`);
  } finally {
    await peer.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  checkTargets().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
