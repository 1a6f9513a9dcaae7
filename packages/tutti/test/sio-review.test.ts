/**
 * Regression tests for defects an independent review found in the Socket.IO layer; each test
 * names the defect it guards against.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Manager } from "socket.io-client";
import { Adapter, type AdapterNamespace } from "../src/index.js";
import { RawWs } from "./helpers.js";
import { connected, startIo, waitFor } from "./sio-helpers.js";

describe("review findings", () => {
  test("io.of(name) for a name a RegExp namespace matches is its child: the parent's middleware applies", async (t) => {
    const s = await startIo();
    t.after(() => s.close());
    const parent = s.io.of(/^\/org-\d+$/);
    parent.use((socket, next) => next(socket.handshake.auth.token === "ok" ? undefined : new Error("unauthorized")));
    const joined: string[] = [];
    parent.on("connection", (socket) => joined.push(socket.nsp.name));
    const org = s.io.of("/org-1");
    org.emit("hello"); // an app broadcasting before anyone joined
    assert.ok((parent as unknown as { children: Set<unknown> }).children.has(org));

    const bad = s.client("/org-1", { auth: { token: "nope" } });
    const [err] = await waitFor<[Error]>(bad, "connect_error");
    assert.equal(err.message, "unauthorized");
    const good = s.client("/org-1", { auth: { token: "ok" } });
    await connected(good);
    assert.deepEqual(joined, ["/org-1"]);
  });

  test("with cleanupEmptyChildNamespaces, refused connections leave no child namespace behind", async (t) => {
    const s = await startIo({ cleanupEmptyChildNamespaces: true });
    t.after(() => s.close());
    s.io.of(/^\/room-\d+$/).use((_socket, next) => next(new Error("closed")));
    const raw = new RawWs(`ws://127.0.0.1:${s.port}/socket.io/?EIO=4&transport=websocket`);
    t.after(() => raw.ws.terminate());
    await raw.next(); // open packet
    for (let i = 0; i < 50; i++) raw.send(`40/room-${i},`);
    const refusals = new Set<string>();
    while (refusals.size < 50) {
      const frame = String(await raw.next());
      const m = /^44(\/room-\d+),/.exec(frame);
      if (m) refusals.add(m[1] as string);
    }
    assert.deepEqual([...s.io.namespaces.keys()], ["/"]);
  });

  test("an adapter whose init() rejects does not crash the server; it becomes a process warning", async (t) => {
    class FailingAdapter extends Adapter {
      override init(): Promise<void> {
        return Promise.reject(new Error("broker unreachable"));
      }
    }
    const warning = waitFor<[Error]>(process, "warning");
    const s = await startIo({ adapter: FailingAdapter as unknown as new (nsp: AdapterNamespace) => Adapter });
    t.after(() => s.close());
    const [w] = await warning;
    assert.equal(w.name, "TuttiWarning");
    assert.match(w.message, /adapter init failed: broker unreachable/);
    await connected(s.client());
  });

  test("io.adapter(Class) initializes the adapters it gives to existing namespaces", async (t) => {
    const s = await startIo();
    t.after(() => s.close());
    s.io.of("/a");
    const initialized: string[] = [];
    class Recording extends Adapter {
      override init(): void {
        initialized.push(this.nsp.name);
      }
    }
    s.io.adapter(Recording as unknown as new (nsp: AdapterNamespace) => Adapter);
    s.io.of("/b");
    assert.deepEqual(initialized.sort(), ["/", "/a", "/b"]);
  });

  test("a client reconnecting a namespace at once (connect, disconnect, connect) keeps the connection", async (t) => {
    const s = await startIo();
    t.after(() => s.close());
    const answer = (socket: { on(ev: string, fn: (ack: () => void) => void): unknown }) =>
      socket.on("ping", (ack) => ack());
    s.io.on("connection", answer);
    s.io.of("/chat").on("connection", answer);
    const manager = new Manager(s.url, { forceNew: true, transports: ["websocket"], reconnection: false });
    const main = manager.socket("/");
    t.after(() => {
      main.disconnect();
      manager.engine?.close();
    });
    await connected(main);
    const chat = manager.socket("/chat");
    chat.connect();
    chat.disconnect();
    chat.connect();
    await connected(chat);
    // a round trip on each namespace proves both are live, on the server too
    await chat.timeout(2000).emitWithAck("ping");
    await main.timeout(2000).emitWithAck("ping");
    assert.equal(main.connected, true);
    assert.equal(s.io.of("/chat").sockets.size, 1);
    assert.equal([...s.io.of("/chat").sockets.keys()][0], chat.id);
  });

  test("a timed-out broadcast ack on a dynamic parent forgets the acks it awaited", async (t) => {
    const s = await startIo();
    t.after(() => s.close());
    const parent = s.io.of(/^\/q-\d+$/);
    const client = s.client("/q-1");
    await connected(client); // the client never acks "question"
    const [err] = await new Promise<[Error | null]>((resolve) =>
      parent.timeout(20).emit("question", (e: Error | null) => resolve([e])),
    );
    assert.equal(err?.message, "operation has timed out");
    const child = [...s.io.of("/q-1").sockets.values()][0];
    assert.equal(child?.pendingAcks, 0);
  });

  test("an object whose toJSON returns itself is sent as JSON.stringify would", async (t) => {
    const s = await startIo();
    t.after(() => s.close());
    const client = s.client();
    await connected(client);
    const self = {
      id: 1,
      name: "x",
      toJSON() {
        return this;
      },
    };
    const received = waitFor<[unknown]>(client, "thing");
    s.io.emit("thing", self);
    assert.deepEqual((await received)[0], { id: 1, name: "x" });
  });
});
