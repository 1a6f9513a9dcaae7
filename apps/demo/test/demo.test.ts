import assert from "node:assert/strict";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { io as ioClient, type Socket } from "socket.io-client";
import { createDemo } from "../src/demo-server.js";

function next<T extends unknown[]>(socket: Socket, event: string): Promise<T> {
  return new Promise((resolve) => socket.once(event, (...args: unknown[]) => resolve(args as T)));
}

test("the demo serves its page and the client bundle; official clients connect, ping and relay messages", async (t) => {
  const { server, io } = createDemo();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(() => io.close());
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const page = await fetch(`${base}/`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<script src="\/socket\.io\/socket\.io\.min\.js"><\/script>/);

  const bundle = await fetch(`${base}/socket.io/socket.io.min.js`);
  assert.equal(bundle.status, 200);
  assert.match(await bundle.text(), /Socket\.IO v4/);

  assert.equal((await fetch(`${base}/nope`)).status, 404);

  const alice = ioClient(base, { forceNew: true });
  const bob = ioClient(base, { forceNew: true, transports: ["polling"] });
  t.after(() => {
    alice.close();
    bob.close();
  });
  await Promise.all([next(alice, "connect"), next(bob, "connect")]);
  assert.equal(await alice.emitWithAck("ping", 42), 42);

  const heard = next<[string, string]>(bob, "said");
  assert.equal(await alice.emitWithAck("say", "hello"), true);
  const [from, text] = await heard;
  assert.equal(text, "hello");
  assert.equal(from, alice.id?.slice(0, 6));
  assert.equal(await alice.emitWithAck("say", "x".repeat(501)), false);
});
