import assert from "node:assert/strict";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { Socket } from "engine.io-client";
import { createDemo } from "../src/demo-server.js";

function nextEvent(client: Socket, event: "open" | "message"): Promise<unknown[]> {
  return new Promise((resolve) => client.once(event, (...args: unknown[]) => resolve(args)));
}

test("the demo serves its page and the client bundle, and the official client connects and echoes", async (t) => {
  const { server, engine } = createDemo();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(() => {
    engine.close();
    server.close();
    server.closeAllConnections();
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const page = await fetch(`${base}/`);
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /<script src="\/engine\.io\.min\.js"><\/script>/);

  const bundle = await fetch(`${base}/engine.io.min.js`);
  assert.equal(bundle.status, 200);
  assert.match(await bundle.text(), /Engine\.IO v6/);

  assert.equal((await fetch(`${base}/nope`)).status, 404);

  const client = new Socket(base, { path: "/socket.io/" });
  t.after(() => client.close());
  await nextEvent(client, "open");
  client.send("ping:42");
  const [reply] = await nextEvent(client, "message");
  assert.equal(reply, "ping:42");
  client.send("hi");
  const [echo] = await nextEvent(client, "message");
  assert.equal(echo, "echo:hi");
});
