import assert from "node:assert/strict";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { request } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { before, type TestContext, test } from "node:test";
import { io as ioClient, type Socket } from "socket.io-client";
import { createDemo, DIST_DIR } from "../src/demo-server.js";
import type {
  ChatClientEvents,
  ChatMessage,
  ChatServerEvents,
  DashboardClientEvents,
  DashboardServerEvents,
  DashboardSnapshot,
  JoinReply,
  Order,
  SendReply,
} from "../src/events.js";
import { MAX_BODY_BYTES } from "../src/orders-api.js";

type ChatSocket = Socket<ChatServerEvents, ChatClientEvents>;
type DashboardSocket = Socket<DashboardServerEvents, DashboardClientEvents>;

before(() => {
  assert.ok(existsSync(join(DIST_DIR, "index.html")), "apps/demo/dist is missing: run `npm run build -w apps/demo`");
});

async function startDemo(t: TestContext, ordersPerSecond = 0): Promise<string> {
  const demo = await createDemo({ ordersPerSecond });
  demo.server.listen(0, "127.0.0.1");
  await once(demo.server, "listening");
  t.after(() => demo.close());
  return `http://127.0.0.1:${(demo.server.address() as AddressInfo).port}`;
}

async function connect<S extends Socket>(t: TestContext, url: string): Promise<S> {
  const socket = ioClient(url, { forceNew: true, reconnection: false }) as S;
  t.after(() => socket.close());
  await next(socket, "connect");
  return socket;
}

function next<T extends unknown[]>(socket: Socket, event: string): Promise<T> {
  return new Promise((resolve) => socket.once(event, (...args: unknown[]) => resolve(args as T)));
}

async function post(url: string, body: string, type = "application/json"): Promise<{ status: number; json: unknown }> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": type }, body });
  return { status: response.status, json: await response.json() };
}

test("the demo serves the built page and its assets with their types, and 404 for anything else", async (t) => {
  const base = await startDemo(t);
  const page = await fetch(`${base}/`);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
  const html = await page.text();
  const script = /<script type="module" crossorigin src="(\/assets\/[^"]+\.js)"><\/script>/.exec(html)?.[1];
  const style = /<link rel="stylesheet" crossorigin href="(\/assets\/[^"]+\.css)">/.exec(html)?.[1];
  assert.ok(script !== undefined && style !== undefined, "index.html links the bundled script and style");

  const js = await fetch(`${base}${script}`);
  assert.equal(js.headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.match(js.headers.get("cache-control") ?? "", /immutable/);
  assert.match(await js.text(), /socket\.io|engine\.io/i, "the official client is bundled");
  assert.equal((await fetch(`${base}${style}`)).headers.get("content-type"), "text/css; charset=utf-8");
  assert.equal((await fetch(`${base}/favicon.svg`)).headers.get("content-type"), "image/svg+xml");

  const head = await fetch(`${base}/index.html`, { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), "");
  for (const path of ["/nope", "/../package.json", "/%2e%2e/package.json", "/socket.io/socket.io.min.js"]) {
    assert.notEqual((await fetch(`${base}${path}`)).status, 200, path);
  }
});

test("POST /api/orders checks the order and its body, and every dashboard shows a good one at once", async (t) => {
  const base = await startDemo(t);
  const dashboards = await Promise.all([
    connect<DashboardSocket>(t, `${base}/dashboard`),
    connect<DashboardSocket>(t, `${base}/dashboard`),
  ]);
  const heard = dashboards.map((socket) => next<[Order]>(socket, "order"));

  const placed = await post(
    `${base}/api/orders`,
    JSON.stringify({ customer: " Ada ", product: "Ceramic mug", quantity: 3 }),
  );
  assert.equal(placed.status, 201);
  const { order } = placed.json as { order: Order };
  assert.deepEqual(
    {
      customer: order.customer,
      product: order.product,
      quantity: order.quantity,
      amount: order.amount,
      source: order.source,
    },
    { customer: "Ada", product: "Ceramic mug", quantity: 3, amount: 42, source: "api" },
  );
  for (const [received] of await Promise.all(heard)) assert.deepEqual(received, order);
  const listed = (await (await fetch(`${base}/api/orders`)).json()) as { orders: Order[] };
  assert.deepEqual(listed.orders[0], order);

  const custom = await post(
    `${base}/api/orders`,
    JSON.stringify({ customer: "Bo", product: "Tea", quantity: 2, price: 1.25 }),
  );
  assert.equal((custom.json as { order: Order }).order.amount, 2.5);

  const bad: Array<[string, unknown, RegExp]> = [
    ["{", "invalid_json", /JSON/],
    ["[]", "invalid_order", /object/],
    [JSON.stringify({ product: "Ceramic mug", quantity: 1 }), "invalid_order", /customer/],
    [JSON.stringify({ customer: "A", product: "Ceramic mug", quantity: 0 }), "invalid_order", /quantity/],
    [JSON.stringify({ customer: "A", product: "Ceramic mug", quantity: 1.5 }), "invalid_order", /quantity/],
    [JSON.stringify({ customer: "A", product: "Tea", quantity: 1 }), "invalid_order", /price/],
    [JSON.stringify({ customer: "A", product: "Tea", quantity: 1, price: -1 }), "invalid_order", /price/],
    [JSON.stringify({ customer: "x".repeat(41), product: "Tea", quantity: 1, price: 1 }), "invalid_order", /customer/],
  ];
  for (const [body, code, message] of bad) {
    const { status, json } = await post(`${base}/api/orders`, body);
    const error = (json as { error: { code: string; message: string } }).error;
    assert.equal(status, 400, body);
    assert.equal(error.code, code, body);
    assert.match(error.message, message, body);
  }
  assert.equal((await post(`${base}/api/orders`, "customer=A", "application/x-www-form-urlencoded")).status, 415);
  const big = JSON.stringify({ customer: "A", product: "Tea", quantity: 1, price: 1, pad: "x".repeat(MAX_BODY_BYTES) });
  assert.equal((await post(`${base}/api/orders`, big)).status, 413);
  assert.equal((await streamedPost(`${base}/api/orders`, big)).status, 413, "a chunked body past the limit");
  const put = await fetch(`${base}/api/orders`, { method: "PUT" });
  assert.equal(put.status, 405);
  assert.equal(put.headers.get("allow"), "GET, HEAD, POST");
  assert.equal((await fetch(`${base}/api/nothing`)).status, 404);

  // the page's form goes over the socket and through the same checks
  const created = next<[Order]>(dashboards[1] as DashboardSocket, "order");
  const reply = await (dashboards[0] as DashboardSocket).emitWithAck("create", {
    customer: "Cy",
    product: "Burr grinder",
    quantity: 1,
  });
  assert.ok(reply.ok);
  assert.equal(reply.order.source, "form");
  assert.deepEqual((await created)[0], reply.order);
  const refused = await (dashboards[0] as DashboardSocket).emitWithAck("create", {
    customer: "",
    product: "x",
    quantity: 1,
  });
  assert.deepEqual(refused, { ok: false, error: "customer must not be empty" });
});

/** A POST with a chunked body (no Content-Length), so the limit is met while reading. */
function streamedPost(url: string, body: string): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", headers: { "content-type": "application/json" } }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0 });
    });
    req.on("error", reject);
    for (let i = 0; i < body.length; i += 1024) req.write(body.slice(i, i + 1024));
    req.end();
  });
}

test("a dashboard gets a snapshot: the catalog, a minute of per-second stats, the latest orders", async (t) => {
  const base = await startDemo(t, 5);
  const socket = ioClient(`${base}/dashboard`, { forceNew: true, reconnection: false }) as DashboardSocket;
  t.after(() => socket.close());
  const [snapshot] = await next<[DashboardSnapshot]>(socket, "snapshot");
  assert.ok(snapshot.catalog.length > 0);
  assert.equal(snapshot.series.length, 60);
  for (let i = 1; i < snapshot.series.length; i++) {
    assert.equal(snapshot.series[i]?.t, (snapshot.series[i - 1]?.t ?? 0) + 1, "one entry per second, in order");
  }
  // the simulator fills the last minute on start, so the chart is never empty
  assert.ok(snapshot.totals.orders > 0);
  assert.equal(snapshot.latest.length, 20);
  const [second] = await next<[{ t: number }]>(socket, "second");
  assert.ok(second.t > (snapshot.series.at(-1)?.t ?? 0) - 1);
});

test("chat: joining returns history and members; messages reach the room only, are acked and stored once per id", async (t) => {
  const base = await startDemo(t);
  const [ada, bob, cy] = await Promise.all([
    connect<ChatSocket>(t, `${base}/chat`),
    connect<ChatSocket>(t, `${base}/chat`),
    connect<ChatSocket>(t, `${base}/chat`),
  ]);
  const joined = await ada.emitWithAck("join", { room: "Team Room", name: " Ada " });
  assert.deepEqual(joined, { ok: true, room: "team-room", name: "Ada", history: [], members: ["Ada"] });
  const adaSeesBob = next<[string, string[]]>(ada, "presence");
  await bob.emitWithAck("join", { room: "team-room", name: "Bob" });
  assert.deepEqual(await adaSeesBob, ["team-room", ["Ada", "Bob"]]);
  await cy.emitWithAck("join", { room: "other", name: "Cy" });

  assert.deepEqual(await ada.emitWithAck("join", { room: "no spaces!", name: "Ada" }), {
    ok: false,
    error: "room names are 1 to 24 letters, digits or dashes",
  });
  const refused = await cy.emitWithAck("message", { id: "m0", room: "team-room", text: "let me in" });
  assert.deepEqual(refused, { ok: false, error: "join the room first" });

  let cyHeard = 0;
  cy.on("message", () => cyHeard++);
  const bobHears = next<[ChatMessage, () => void]>(bob, "message");
  const delivered = next<[string, number]>(ada, "delivered");
  const sent = (await ada.emitWithAck("message", { id: "m1", room: "team-room", text: " hello " })) as SendReply;
  assert.ok(sent.ok);
  assert.deepEqual({ ...sent.message, at: 0 }, { id: "m1", room: "team-room", name: "Ada", text: "hello", at: 0 });
  const [relayed, ack] = await bobHears;
  assert.deepEqual(relayed, sent.message);
  ack();
  assert.deepEqual(await delivered, ["m1", 1]);

  // the same id again (a resend after a lost ack) gets the stored message and is not relayed
  const again = await ada.emitWithAck("message", { id: "m1", room: "team-room", text: " hello " });
  assert.deepEqual(again, sent);
  assert.deepEqual(await bob.emitWithAck("message", { id: "m1", room: "team-room", text: "mine" }), {
    ok: false,
    error: "message id already used",
  });

  // history keeps the last 50
  for (let i = 2; i <= 60; i++) await ada.emitWithAck("message", { id: `m${i}`, room: "team-room", text: `n${i}` });
  const late = await connect<ChatSocket>(t, `${base}/chat`);
  const reply = (await late.emitWithAck("join", { room: "team-room", name: "Dee" })) as JoinReply;
  assert.ok(reply.ok);
  assert.equal(reply.history.length, 50);
  assert.equal(reply.history[0]?.id, "m11");
  assert.equal(reply.history.at(-1)?.id, "m60");
  assert.equal(reply.history.filter((m) => m.id === "m1").length, 0);
  assert.deepEqual(reply.members, ["Ada", "Bob", "Dee"]);
  assert.equal(cyHeard, 0, "another room hears nothing");

  // typing goes to the others in the room; leaving updates presence
  const typing = next<[string, boolean]>(bob, "typing");
  ada.emit("typing", true);
  assert.deepEqual(await typing, ["Ada", true]);
  const left = next<[string, string[]]>(bob, "presence");
  ada.close();
  assert.deepEqual(await left, ["team-room", ["Bob", "Dee"]]);
});

test("the main namespace answers pings and counts connected pages", async (t) => {
  const base = await startDemo(t);
  const first = await connect(t, base);
  const counts: number[] = [];
  first.on("clients", (n: number) => counts.push(n));
  await connect(t, base);
  await first.emitWithAck("ping");
  while (counts.at(-1) !== 2) await next(first, "clients");
});
