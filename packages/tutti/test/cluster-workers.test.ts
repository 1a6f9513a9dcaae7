/**
 * The workers' broker with the primary in this process: the IPC protocol over in-process
 * channels that copy as node's IPC does (v8 for "advanced", JSON for "json"). The adapter contract
 * runs over it; the real processes are in cluster-workers-processes.test.ts.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import { test } from "node:test";
import { deserialize, serialize } from "node:v8";
import {
  createClusterAdapter,
  IPC_TAG,
  PrimaryHub,
  type PrimaryOptions,
  Server,
  WorkerBroker,
  type WorkerBrokerOptions,
  type WorkerChannel,
  type WorkerConnection,
} from "../src/index.js";
import { adapterContract } from "../src/testing/index.js";

/** A worker's channel to `primary`, delivered asynchronously in order, copied as IPC copies. */
function channelTo(primary: PrimaryHub, advanced: boolean) {
  const copy = (m: unknown): unknown => (advanced ? deserialize(serialize(m)) : JSON.parse(JSON.stringify(m)));
  let toWorker: ((m: unknown) => void) | undefined;
  let disconnect: (() => void) | undefined;
  /** Messages the app sends on the same channel, as the primary saw them. */
  const appMessages: unknown[] = [];
  let paused = false;
  const connection: WorkerConnection = primary.connect({
    name: "w",
    advanced,
    send: (m) => {
      const c = copy(m);
      setImmediate(() => toWorker?.(c));
      return true;
    },
  });
  const channel: WorkerChannel = {
    send: (m) => {
      if (paused) return true;
      const c = copy(m);
      setImmediate(() => {
        if (!connection.receive(c)) appMessages.push(c);
      });
      return true;
    },
    listen(onMessage, onDisconnect) {
      toWorker = onMessage;
      disconnect = onDisconnect;
      return () => {
        toWorker = undefined;
      };
    },
  };
  return {
    channel,
    connection,
    appMessages,
    /** The worker's messages stop reaching the primary (a stopped or stuck worker). */
    pause(on: boolean) {
      paused = on;
    },
    /** The worker's process is gone. */
    exit() {
      connection.close();
      disconnect?.();
    },
    /** The app's own message to the worker. */
    toWorker(m: unknown) {
      toWorker?.(m);
    },
  };
}

async function startWorker(primary: PrimaryHub, opts: WorkerBrokerOptions & { advanced?: boolean } = {}) {
  const link = channelTo(primary, opts.advanced ?? true);
  const broker = new WorkerBroker({ ...opts, channel: link.channel });
  const http = createServer();
  const io = new Server(http, { adapter: createClusterAdapter(broker, { requestsTimeout: 3000 }) });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  await broker.ready();
  return { io, broker, link };
}

/** Resolves once every broker sees all of them (a join reaches the others one IPC hop later). */
async function converged(brokers: WorkerBroker[]): Promise<void> {
  await Promise.all(
    brokers.map(
      (broker) =>
        new Promise<void>((resolve) => {
          const check = (): void => {
            if (brokers.every((other) => broker.members().has(other.tag))) {
              broker.off("node-up", check);
              resolve();
            }
          };
          broker.on("node-up", check);
          check();
        }),
    ),
  );
}

adapterContract("node:cluster workers (in-process IPC)", {
  async start(size) {
    const primary = new PrimaryHub();
    const servers: Server[] = [];
    const brokers: WorkerBroker[] = [];
    for (let i = 0; i < size; i++) {
      const worker = await startWorker(primary);
      servers.push(worker.io);
      brokers.push(worker.broker);
    }
    await converged(brokers);
    return {
      servers,
      async close() {
        await Promise.all(servers.map((io) => io.close()));
        primary.close();
      },
    };
  },
});

test("JSON channels: binary survives both ways, and the app's own messages are left to it", async () => {
  const primary = new PrimaryHub();
  const a = await startWorker(primary, { advanced: false });
  const b = await startWorker(primary, { advanced: false });
  await converged([a.broker, b.broker]);
  const got = new Promise<unknown[]>((resolve) => b.io.on("bin", (...args: unknown[]) => resolve(args.slice(0, -1))));
  b.io.on("bin", (...args: unknown[]) => (args[args.length - 1] as (v: unknown) => void)(Buffer.from([9, 8])));
  const [answers] = await Promise.all([
    a.io.serverSideEmitWithAck("bin", Buffer.from([1, 2, 3]), { n: undefined }),
    got,
  ]);
  const args = await got;
  assert.ok(Buffer.isBuffer(args[0]));
  assert.deepEqual([...(args[0] as Buffer)], [1, 2, 3]);
  assert.ok(Buffer.isBuffer(answers[0]));
  assert.deepEqual([...(answers[0] as Buffer)], [9, 8]);
  // the app's IPC is not Tutti's: the primary hands it back, the worker ignores what is not tagged
  a.link.channel.send({ app: "hello" });
  a.link.toWorker({ app: "to-worker" });
  a.link.toWorker({ tutti: "someone-else" });
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(a.link.appMessages, [{ app: "hello" }]);
  assert.equal(IPC_TAG.startsWith("tutti"), true);
  await Promise.all([a.io.close(), b.io.close()]);
  primary.close();
});

test("a worker that exits is down for the others at once; the primary's secret and addresses reach every worker", async () => {
  const primary = new PrimaryHub();
  const a = await startWorker(primary);
  const b = await startWorker(primary);
  const c = await startWorker(primary);
  await converged([a.broker, b.broker, c.broker]);
  assert.deepEqual(Buffer.from(await a.broker.secret()), Buffer.from(await c.broker.secret()));
  assert.equal((await a.broker.secret()).length, 32);
  // the engine announces its relay listener's address; any worker locates it through the primary
  const address = await new Promise<string>((resolve) => {
    const check = (): void => {
      const own = b.broker.members().get(b.broker.tag)?.address;
      if (own !== undefined) resolve(own);
      else setImmediate(check);
    };
    check();
  });
  assert.match(address, /^127\.0\.0\.1:\d+$/);
  assert.equal((await a.broker.locate(b.broker.tag))?.address, address);
  assert.equal((await c.broker.locate(b.broker.tag))?.address, address);
  assert.equal(await a.io.of("/").adapter.serverCount(), 3);
  b.io.on("never", (ack: (v: string) => void) => ack("b"));
  c.io.on("never", () => {
    // never answers: only its exit ends the wait
  });
  const pending = a.io.serverSideEmitWithAck("never");
  const down = once(a.broker, "node-down");
  c.link.exit();
  assert.deepEqual(await down, [c.broker.tag]);
  assert.deepEqual(await pending, ["b"]);
  assert.equal(await a.io.of("/").adapter.serverCount(), 2);
  assert.equal(await a.broker.locate(c.broker.tag), undefined);
  await Promise.all([a.io.close(), b.io.close(), c.io.close()]);
  primary.close();
});

test("a silent worker is removed after heartbeatTimeout and joins again when it speaks; a worker without its primary rejects publishes", async () => {
  const beat: PrimaryOptions & WorkerBrokerOptions = { heartbeatInterval: 50, heartbeatTimeout: 300 };
  const primary = new PrimaryHub(beat);
  const a = await startWorker(primary, beat);
  const b = await startWorker(primary, beat);
  await converged([a.broker, b.broker]);
  const events: string[] = [];
  primary.on("worker-down", (tag, reason) => events.push(`down ${tag === b.broker.tag ? "b" : tag} ${reason}`));
  primary.on("worker-up", (tag) => events.push(`up ${tag === b.broker.tag ? "b" : tag}`));
  b.io.on("q", (ack: (v: string) => void) => ack("b"));
  // b goes silent (as if stopped): the primary removes it, a stops waiting for it
  const bDown = once(a.broker, "node-down");
  // b hears no pong either: it stops waiting for the primary, and its publishes reject at once
  const lost = new Promise<Error>((resolve) => b.broker.once("error", resolve));
  b.link.pause(true);
  assert.deepEqual(await bDown, [b.broker.tag]);
  assert.deepEqual(await a.io.serverSideEmitWithAck("q"), []);
  assert.match((await lost).message, /primary/);
  const feedLost = new Promise<void>((resolve) => {
    const link = b.broker.namespace("/lost", {
      onEntry: () => undefined,
      onMessage: () => undefined,
      onFeedLost: () => resolve(),
    });
    link.publish({ rooms: [], except: [], compress: true, data: ["x"] }).then(
      () => assert.fail("published without a primary"),
      (err: Error) => assert.match(err.message, /primary/),
    );
  });
  b.broker.on("error", () => undefined);
  // b speaks again: it joins again, with its feeds told of the gap
  const bUp = once(a.broker, "node-up");
  b.link.pause(false);
  assert.equal(((await bUp)[0] as { tag: string }).tag, b.broker.tag);
  await feedLost;
  assert.deepEqual(await a.io.serverSideEmitWithAck("q"), ["b"]);
  assert.deepEqual(events, ["down b timeout", "up b"]);
  await Promise.all([a.io.close(), b.io.close()]);
  primary.close();
});

test("at most maxPending requests await the primary", async () => {
  const primary = new PrimaryHub();
  const link = channelTo(primary, true);
  const broker = new WorkerBroker({ channel: link.channel, maxPending: 2 });
  await broker.ready();
  const nsp = broker.namespace("/", { onEntry: () => undefined, onMessage: () => undefined });
  const m = { rooms: [], except: [], compress: true, data: ["e"] };
  const results = await Promise.allSettled([nsp.publish(m), nsp.publish(m), nsp.publish(m)]);
  assert.deepEqual(
    results.map((r) => r.status),
    ["fulfilled", "fulfilled", "rejected"],
  );
  assert.deepEqual(
    results.slice(0, 2).map((r) => (r.status === "fulfilled" ? r.value.seq : 0)),
    [1, 2],
  );
  await broker.close();
  primary.close();
});

test("a tag already in the cluster is refused: the second worker's ready() rejects", async () => {
  const primary = new PrimaryHub();
  const first = new WorkerBroker({ channel: channelTo(primary, true).channel, tag: "same-1" });
  await first.ready();
  const second = new WorkerBroker({ channel: channelTo(primary, true).channel, tag: "same-1" });
  second.on("error", () => undefined);
  await assert.rejects(second.ready(), /refused this worker: node tag same-1 is taken/);
  assert.deepEqual([...first.members().keys()], ["same-1"]);
  await Promise.all([first.close(), second.close()]);
  primary.close();
});
