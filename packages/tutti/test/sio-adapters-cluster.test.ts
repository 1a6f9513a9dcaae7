// @socket.io/cluster-adapter: two node:cluster workers, each a Tutti server on it, this test
// process their primary (with the adapter's setupPrimary); and what io.adapter() does with it
// outside a worker.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import cluster, { type Worker } from "node:cluster";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { setupPrimary } from "@socket.io/cluster-adapter";
import { type Socket as ClientSocket, io as ioClient } from "socket.io-client";
import { countEvents, until } from "./sio-adapters-helpers.js";
import { connected, waitFor } from "./sio-helpers.js";

const workerFile = fileURLToPath(new URL("./sio-adapters-cluster-worker.ts", import.meta.url));

test("outside a node:cluster worker, io.adapter() refuses it with ADAPTER_NOT_SUPPORTED saying why", async () => {
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ["--import", "tsx", workerFile], (err, out) => (err ? reject(err) : resolve(out)));
  });
  const outcome = JSON.parse(stdout.trim()) as { code?: string; message?: string };
  assert.equal(outcome.code, "ADAPTER_NOT_SUPPORTED");
  assert.match(outcome.message ?? "", /runs only in a node:cluster worker/);
});

interface Reply {
  reply: number;
  [key: string]: unknown;
}

describe("@socket.io/cluster-adapter across two node:cluster workers", () => {
  const workers: Worker[] = [];
  const ports: number[] = [];
  const clients: ClientSocket[] = [];
  let nextId = 0;

  /** Asks worker `index` to do something; resolves with its reply. */
  const ask = (index: number, request: Record<string, unknown>): Promise<Reply> => {
    const worker = workers[index] as Worker;
    const id = ++nextId;
    return new Promise((resolve) => {
      const onMessage = (message: Reply): void => {
        if (message?.reply !== id) return;
        worker.off("message", onMessage);
        resolve(message);
      };
      worker.on("message", onMessage);
      worker.send({ ...request, id });
    });
  };

  const client = async (index: number, rooms: readonly string[] = []): Promise<ClientSocket> => {
    const socket = ioClient(`http://127.0.0.1:${ports[index]}`, {
      forceNew: true,
      transports: ["websocket"],
      reconnection: false,
    });
    clients.push(socket);
    await connected(socket);
    if (rooms.length > 0) await socket.emitWithAck("join", rooms);
    return socket;
  };

  before(async () => {
    setupPrimary();
    // "advanced" IPC carries Buffers as binary; the default JSON turns them into { type, data } objects
    cluster.setupPrimary({ exec: workerFile, execArgv: ["--import", "tsx"], serialization: "advanced" });
    for (let i = 0; i < 2; i++) {
      const worker = cluster.fork();
      workers.push(worker);
      const port = await new Promise<number>((resolve) => {
        const onMessage = (message: { ready?: number }): void => {
          if (message?.ready === undefined) return;
          worker.off("message", onMessage);
          resolve(message.ready);
        };
        worker.on("message", onMessage);
      });
      ports.push(port);
    }
    for (const index of [0, 1]) {
      await until(async () => (await ask(index, { op: "serverCount" })).count === 2, `worker ${index} sees 2 servers`);
    }
  });

  after(async () => {
    for (const socket of clients) socket.disconnect();
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.isDead()) resolve();
            else {
              worker.once("exit", () => resolve());
              worker.kill();
            }
          }),
      ),
    );
    cluster.removeAllListeners("message");
  });

  test("a broadcast to a room from the other worker reaches its members there, binary included, and no one else", async () => {
    const member = await client(0, ["r"]);
    const outsider = await client(0);
    const strays = countEvents([outsider], "news");
    const got = waitFor<[string, Buffer]>(member, "news");
    await ask(1, { op: "emit", room: "r", event: "news", args: ["hi", Buffer.from([4, 5])] });
    const [text, bytes] = await got;
    assert.equal(text, "hi");
    assert.deepEqual([...bytes], [4, 5]);
    const marker = waitFor(outsider, "marker");
    await ask(1, { op: "emit", room: outsider.id as string, event: "marker", args: [] });
    await marker;
    assert.deepEqual(strays, [0]);
  });

  test("fetchSockets, serverSideEmitWithAck and a broadcast with acks reach the other worker", async () => {
    const a = await client(0, ["f"]);
    const b = await client(1, ["f"]);
    const fetched = (await ask(1, { op: "fetch", room: "f" })).sockets as Array<{ id: string; rooms: string[] }>;
    assert.deepEqual(fetched.map((s) => s.id).sort(), [a.id, b.id].sort());
    assert.deepEqual(fetched.find((s) => s.id === a.id)?.rooms, [a.id, "f"].sort());

    assert.deepEqual((await ask(0, { op: "serverSideEmitWithAck", event: "double", args: [21] })).answers, [42]);

    a.on("q", (ack: (answer: string) => void) => ack("a"));
    b.on("q", (ack: (answer: string) => void) => ack("b"));
    const outcome = await ask(0, { op: "broadcastWithAck", room: "f", event: "q", timeout: 5000 });
    assert.equal(outcome.error, null);
    assert.deepEqual((outcome.responses as string[]).sort(), ["a", "b"]);
  });

  test("socketsJoin and disconnectSockets act on the other worker's sockets", async () => {
    const c = await client(1, ["j"]);
    await ask(0, { op: "socketsJoin", room: "j", join: "j2" });
    await until(async () => ((await ask(0, { op: "fetch", room: "j2" })).sockets as unknown[]).length === 1, "joined");
    const gone = waitFor<[string]>(c, "disconnect");
    await ask(0, { op: "disconnect", room: "j2" });
    assert.equal((await gone)[0], "io server disconnect");
  });
});
