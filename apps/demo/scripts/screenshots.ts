// Regenerates docs/screenshots/*.png: starts the demo on a free port, stages a short chat with
// two scripted members (official socket.io-client in Node), and photographs the page in Chromium.
// Run from the repository root after `npm run build`: node --import tsx apps/demo/scripts/screenshots.ts
import { once } from "node:events";
import { mkdir } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { io as ioClient, type Socket } from "socket.io-client";
import { createDemo } from "../src/demo-server.js";
import type { ChatClientEvents, ChatServerEvents } from "../src/events.js";
import { launchChromium } from "../test/chromium.js";

type ChatSocket = Socket<ChatServerEvents, ChatClientEvents>;

const OUT = fileURLToPath(new URL("../../../docs/screenshots/", import.meta.url));

const demo = await createDemo();
demo.server.listen(0, "127.0.0.1");
await once(demo.server, "listening");
const base = `http://127.0.0.1:${(demo.server.address() as AddressInfo).port}`;
const browser = await launchChromium();
const members: ChatSocket[] = [];

/** A scripted member: joins `room` under `name` and acks what it receives, as the page does. */
async function member(name: string, room: string): Promise<ChatSocket> {
  const socket: ChatSocket = ioClient(`${base}/chat`, { forceNew: true });
  members.push(socket);
  socket.on("message", (_message, ack) => ack());
  await new Promise<void>((resolve) => socket.once("connect", resolve));
  const reply = await socket.emitWithAck("join", { room, name });
  if (!reply.ok) throw new Error(reply.error);
  return socket;
}

let nextId = 0;
async function say(socket: ChatSocket, room: string, text: string): Promise<void> {
  const reply = await socket.emitWithAck("message", { id: `shot-${nextId++}`, room, text });
  if (!reply.ok) throw new Error(reply.error);
}

async function shoot(page: Page, name: string, fullPage = false): Promise<void> {
  await page.screenshot({ path: `${OUT}${name}.png`, fullPage, animations: "disabled" });
  console.log(`wrote docs/screenshots/${name}.png`);
}

try {
  await mkdir(OUT, { recursive: true });
  const grace = await member("Grace Hopper", "general");
  const linus = await member("Linus", "general");
  await member("Margaret", "design");
  await member("Ken", "random");
  await say(grace, "general", "Morning! Is the new build up?");
  await say(linus, "general", "Yes, deployed on Tutti ten minutes ago. Same socket.io client, not one line changed.");
  await say(linus, "general", "Rooms, acks and presence all work as before.");
  await say(grace, "general", "The dashboard tab shows the orders coming in live, too.");

  for (const [name, viewport] of [
    ["chat", { width: 1280, height: 760 }],
    ["chat-phone", { width: 390, height: 780 }],
  ] as const) {
    const context = await browser.newContext({ viewport, deviceScaleFactor: 2 });
    const page = await context.newPage();
    await page.goto(`${base}/#chat`);
    await page.locator("#name-input").fill(name === "chat" ? "Ada" : "Ada (phone)");
    await page.locator("#name-form button[type=submit]").click();
    await page.locator("#member-list [data-name='Linus']").waitFor();
    await page.locator("#transport", { hasText: "websocket" }).waitFor({ state: "attached" });
    if (name === "chat") {
      await page
        .locator("#message-input")
        .fill("Just opened it: connected over WebSocket, and the status bar shows the round trip.");
      await page.locator("#message-input").press("Enter");
      await page.locator('#messages .msg.mine[data-status="delivered"]').waitFor();
      await say(grace, "general", "Ticks: one when the server has it, two when we do.");
      await page.locator("#messages .msg", { hasText: "Ticks:" }).waitFor();
    }
    linus.emit("typing", true);
    await page.locator("#typing", { hasText: "Linus is typing" }).waitFor();
    await page.locator("#rtt", { hasText: "ms" }).waitFor({ state: "attached" });
    await shoot(page, name);
    await context.close();
  }

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 2 });
  const page = await context.newPage();
  await page.goto(`${base}/#dashboard`);
  await page.locator("#chart canvas").first().waitFor();
  await fetch(`${base}/api/orders`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ customer: "Grace Hopper", product: "Burr grinder", quantity: 1 }),
  });
  await page.locator("#order-customer").fill("Ada Lovelace");
  await page.locator("#order-product").selectOption("Pour-over kettle");
  await page.locator("#order-quantity").fill("2");
  await page.locator("#order-form button[type=submit]").click();
  await page.locator("#order-result", { hasText: "placed" }).waitFor();
  await page.locator("#transport", { hasText: "websocket" }).waitFor();
  await page.locator("#rtt", { hasText: "ms" }).waitFor();
  await shoot(page, "dashboard", true);
  await context.close();
} finally {
  for (const socket of members) socket.close();
  await browser.close();
  await demo.close();
}
