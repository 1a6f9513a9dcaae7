import assert from "node:assert/strict";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { request } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { before, type TestContext, test } from "node:test";
import { io as ioClient, type Socket } from "socket.io-client";
import { CHAT_LIMITS } from "../src/chat-rooms.js";
import { createDemo, type DemoOptions, DIST_DIR } from "../src/demo-server.js";
import type {
  ChatClientEvents,
  ChatMessage,
  ChatServerEvents,
  DashboardClientEvents,
  DashboardServerEvents,
  DashboardSnapshot,
  JoinReply,
  Order,
  RoomSummary,
  SecondStats,
  SendReply,
} from "../src/events.js";
import { MAX_BODY_BYTES } from "../src/orders-api.js";

type ChatSocket = Socket<ChatServerEvents, ChatClientEvents>;
type DashboardSocket = Socket<DashboardServerEvents, DashboardClientEvents>;

before(() => {
  assert.ok(existsSync(join(DIST_DIR, "index.html")), "apps/demo/dist is missing: run `npm run build -w apps/demo`");
});

async function startDemo(t: TestContext, opts: DemoOptions = {}): Promise<string> {
  const demo = await createDemo({ ordersPerSecond: 0, ...opts });
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
    [JSON.stringify({ customer: "\u200b\u200d", product: "Tea", quantity: 1, price: 1 }), "invalid_order", /customer/],
    [JSON.stringify({ customer: "\u3164", product: "Tea", quantity: 1, price: 1 }), "invalid_order", /customer/],
    [JSON.stringify({ customer: "A", product: "Te\u2028a", quantity: 1, price: 1 }), "invalid_order", /product/],
    [JSON.stringify({ customer: "A", product: "Tea", quantity: 1, price: 1.005 }), "invalid_order", /whole cents/],
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
  const base = await startDemo(t, { ordersPerSecond: 5 });
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
    field: "room",
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
  // an id older than the history is still known: the resend gets the stored time and is not stored again
  const resent = (await ada.emitWithAck("message", { id: "m1", room: "team-room", text: " hello " })) as SendReply;
  assert.deepEqual(resent, sent);
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

/** A GET with `path` sent as it is (fetch would normalise it); resolves to the status. */
function rawGet(base: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(base, { path }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}

test("a request path that is no valid URL gets a 404 and the server carries on", async (t) => {
  const base = await startDemo(t);
  for (const path of ["//a:b", "//[", "//%", "//x:99999/api/orders", "//api/orders"]) {
    assert.equal(await rawGet(base, path), 404, path);
  }
  assert.equal(await rawGet(base, "/api/orders?limit=5"), 200, "the query is not part of the path");
  assert.equal((await fetch(`${base}/api/orders`)).status, 200);
});

/** The rooms list a new chat socket gets on connecting. */
async function roomList(t: TestContext, base: string): Promise<RoomSummary[]> {
  const socket = ioClient(`${base}/chat`, { forceNew: true, reconnection: false }) as ChatSocket;
  t.after(() => socket.close());
  const [rooms] = await next<[RoomSummary[]]>(socket, "rooms");
  socket.close();
  return rooms;
}

test("chat rooms: the default ones stay, empty ones without messages go, and there are never more than the limit", async (t) => {
  let clock = 1_700_000_000_000;
  const base = await startDemo(t, { now: () => clock++ }); // every reading is later: no two rooms are as quiet
  const ada = await connect<ChatSocket>(t, `${base}/chat`);
  await ada.emitWithAck("join", { room: "general", name: "Ada" });
  const kept = (await ada.emitWithAck("message", { id: "g1", room: "general", text: "keep me" })) as SendReply;
  assert.ok(kept.ok);

  // rooms only passed through are forgotten as they empty, and never push out the default ones
  for (let i = 0; i < 120; i++) assert.ok((await ada.emitWithAck("join", { room: `spam-${i}`, name: "Ada" })).ok);
  assert.deepEqual(await roomList(t, base), [
    { name: "general", members: 0 },
    { name: "random", members: 0 },
    { name: "spam-119", members: 1 },
  ]);

  // rooms with messages are kept up to the limit; past it the quietest empty one makes way
  const others = CHAT_LIMITS.rooms - 2;
  for (let i = 0; i < others; i++) {
    await ada.emitWithAck("join", { room: `kept-${i}`, name: "Ada" });
    assert.ok((await ada.emitWithAck("message", { id: `k${i}`, room: `kept-${i}`, text: "hi" })).ok);
  }
  assert.equal((await roomList(t, base)).length, CHAT_LIMITS.rooms);
  assert.ok((await ada.emitWithAck("join", { room: "newcomer", name: "Ada" })).ok);
  const names = (await roomList(t, base)).map((room) => room.name);
  assert.equal(names.length, CHAT_LIMITS.rooms);
  assert.ok(!names.includes("kept-0") && names.includes("kept-1") && names.includes("newcomer"));

  // when every room has members, a new one is refused and the rooms in use still work
  const rest = names.filter((name) => name !== "general" && name !== "random" && name !== "newcomer");
  const members = await Promise.all(rest.map(() => connect<ChatSocket>(t, `${base}/chat`)));
  await Promise.all(members.map((socket, i) => socket.emitWithAck("join", { room: rest[i] as string, name: `M${i}` })));
  assert.deepEqual(await ada.emitWithAck("join", { room: "one-too-many", name: "Ada" }), {
    ok: false,
    field: "room",
    error: `the chat has ${CHAT_LIMITS.rooms} rooms in use: join one of them`,
  });
  assert.equal((await roomList(t, base)).length, CHAT_LIMITS.rooms);
  const general = (await ada.emitWithAck("join", { room: "general", name: "Ada" })) as JoinReply;
  assert.ok(general.ok);
  assert.deepEqual(general.history, [kept.message]);
});

test("chat: names must show, and overlapping joins are answered in turn", async (t) => {
  const base = await startDemo(t);
  const [ada, bob] = await Promise.all([
    connect<ChatSocket>(t, `${base}/chat`),
    connect<ChatSocket>(t, `${base}/chat`),
  ]);
  for (const name of ["\u200b", "\u200e\u200f", "A\u2060B", "Ad\u202ea", "\u3164", "\u00ad"]) {
    const reply = await ada.emitWithAck("join", { room: "general", name });
    assert.equal(reply.ok ? undefined : reply.field, "name", JSON.stringify(name));
  }
  assert.ok((await ada.emitWithAck("join", { room: "general", name: "Zoë 🙂" })).ok);

  await bob.emitWithAck("join", { room: "first", name: "Bob" });
  const order: string[] = [];
  const [first, second] = await Promise.all(
    ["first", "second"].map(async (room) => {
      const reply = await ada.emitWithAck("join", { room, name: "Ada" });
      order.push(room);
      return reply;
    }),
  );
  assert.deepEqual(order, ["first", "second"]);
  assert.ok(first?.ok && second?.ok);
  assert.deepEqual([first.room, first.members], ["first", ["Ada", "Bob"]]);
  assert.deepEqual([second.room, second.members], ["second", ["Ada"]]);
  const cy = await connect<ChatSocket>(t, `${base}/chat`);
  const later = (await cy.emitWithAck("join", { room: "first", name: "Cy" })) as JoinReply;
  assert.deepEqual(later.ok && later.members, ["Bob", "Cy"]);
});

test("events without their request or without an ack: an error answer, or handled without answering", async (t) => {
  const base = await startDemo(t);
  const [ada, bob] = await Promise.all([
    connect<ChatSocket>(t, `${base}/chat`),
    connect<ChatSocket>(t, `${base}/chat`),
  ]);
  const untyped = ada as unknown as Socket;
  const noRequest = (await untyped.emitWithAck("join")) as JoinReply;
  assert.equal(noRequest.ok, false);
  await ada.emitWithAck("join", { room: "acks", name: "Ada" });
  await bob.emitWithAck("join", { room: "acks", name: "Bob" });
  assert.deepEqual(await untyped.emitWithAck("message"), { ok: false, error: "the message is missing" });
  const heard = next<[ChatMessage, () => void]>(bob, "message");
  untyped.emit("message", { id: "no-ack", room: "acks", text: "no ack wanted" });
  assert.equal((await heard)[0].text, "no ack wanted");

  const [one, two] = await Promise.all([
    connect<DashboardSocket>(t, `${base}/dashboard`),
    connect<DashboardSocket>(t, `${base}/dashboard`),
  ]);
  const dashboard = one as unknown as Socket;
  assert.deepEqual(await dashboard.emitWithAck("create"), { ok: false, error: "the order must be a JSON object" });
  const placed = next<[Order]>(two, "order");
  dashboard.emit("create", { customer: "Ann", product: "Ceramic mug", quantity: 1 });
  assert.equal((await placed)[0].customer, "Ann");
});

test("typing notices: a start at most every 500 ms per socket, a stop only after a start", async (t) => {
  let clock = 1_700_000_000_000;
  const base = await startDemo(t, { now: () => clock });
  const [ada, bob] = await Promise.all([
    connect<ChatSocket>(t, `${base}/chat`),
    connect<ChatSocket>(t, `${base}/chat`),
  ]);
  await ada.emitWithAck("join", { room: "typing", name: "Ada" });
  await bob.emitWithAck("join", { room: "typing", name: "Bob" });
  const heard: boolean[] = [];
  bob.on("typing", (_name, typing) => heard.push(typing));

  /** Ada's notices, then a message: once it reaches Bob, so has every notice relayed before it. */
  const roundTrip = async (notices: boolean[], id: string): Promise<void> => {
    for (const typing of notices) ada.emit("typing", typing);
    const relayed = next(bob, "message");
    await ada.emitWithAck("message", { id, room: "typing", text: id });
    await relayed;
  };
  await roundTrip([...Array(20).fill(true), false, false, true, false], "burst");
  // the notices are volatile, so some may be dropped, but never more are relayed than allowed
  assert.ok(heard.filter((typing) => typing).length <= 1, `${heard}`);
  assert.ok(heard.filter((typing) => !typing).length <= 1, `${heard}`);
  clock += 500;
  const started = next<[string, boolean]>(bob, "typing");
  ada.emit("typing", true);
  assert.deepEqual(await started, ["Ada", true]);
});

test("the dashboard sends each whole second once and in order, however late its timer fires", async (t) => {
  let clock = 1_700_000_000_500;
  const base = await startDemo(t, { now: () => clock });
  const socket = ioClient(`${base}/dashboard`, { forceNew: true, reconnection: false }) as DashboardSocket;
  t.after(() => socket.close());
  await next(socket, "snapshot");
  const seconds: number[] = [];
  socket.on("second", (stats: SecondStats) => seconds.push(stats.t));

  const first = Math.floor(clock / 1000);
  clock += 3000; // three seconds end before the timer fires again
  while (seconds.length < 3) await next(socket, "second");
  clock += 1000;
  while (seconds.length < 4) await next(socket, "second");
  assert.deepEqual(seconds, [first, first + 1, first + 2, first + 3]);
});
