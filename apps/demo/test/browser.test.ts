import assert from "node:assert/strict";
import { once } from "node:events";
import { existsSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, type TestContext, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { createDemo, DIST_DIR } from "../src/demo-server.js";
import { launchChromium, skipWithoutChromium } from "./chromium.js";
import { DemoProcess } from "./demo-process.js";

const WAIT = 60_000;

const skip = skipWithoutChromium();

describe("the demo in Chromium", { timeout: 600_000 }, () => {
  let browser: Browser | undefined;
  let launchError: unknown;

  before(async () => {
    if (skip !== false) return;
    // a failure here is reported by each test (as a failure, not a cancelled test)
    try {
      browser = await launchChromium();
    } catch (err) {
      launchError = err;
    }
  });
  after(() => browser?.close());

  function ready(): Browser {
    assert.ok(existsSync(join(DIST_DIR, "index.html")), "apps/demo/dist is missing: run `npm run build -w apps/demo`");
    if (browser === undefined) throw launchError;
    return browser;
  }

  /** A page in a browser context of its own (its own storage, as another person's browser). */
  async function openPage(t: TestContext, url: string): Promise<Page> {
    const context = await ready().newContext({ viewport: { width: 1200, height: 800 } });
    context.setDefaultTimeout(WAIT);
    t.after(() => context.close());
    const page = await context.newPage();
    await page.goto(url);
    return page;
  }

  async function startDemo(t: TestContext): Promise<string> {
    const demo = await createDemo({ ordersPerSecond: 0 });
    demo.server.listen(0, "127.0.0.1");
    await once(demo.server, "listening");
    t.after(() => demo.close());
    return `http://127.0.0.1:${(demo.server.address() as AddressInfo).port}`;
  }

  /** Ada and Bob, each in a page of their own, both in `room`. */
  async function adaAndBob(t: TestContext, url: string, room: string): Promise<[Page, Page]> {
    const [ada, bob] = await Promise.all([openPage(t, url), openPage(t, url)]);
    await enterChat(ada, "Ada", room);
    await enterChat(bob, "Bob", room);
    return [ada, bob];
  }

  /** Picks a name, goes to `room`, and waits until the server lists this page among its members. */
  async function enterChat(page: Page, name: string, room: string): Promise<void> {
    await page.locator("#name-input").fill(name);
    await page.locator("#name-form button[type=submit]").click();
    await page.locator("#name-form").waitFor({ state: "hidden" });
    await page.locator("#room-input").fill(room);
    await page.locator("#room-form button[type=submit]").click();
    await page.locator("#room-title", { hasText: `# ${room}` }).waitFor();
    await member(page, name).waitFor();
  }

  const member = (page: Page, name: string) => page.locator(`#member-list [data-name="${name}"]`);
  const message = (page: Page, text: string) => page.locator("#messages .msg", { hasText: text });

  async function send(page: Page, text: string): Promise<void> {
    await page.locator("#message-input").fill(text);
    await page.locator("#message-input").press("Enter");
  }

  async function waitForConnection(page: Page, state: string): Promise<void> {
    // a string, evaluated in the page (this file is compiled without the DOM's types)
    await page.waitForFunction(`document.body.dataset.connection === ${JSON.stringify(state)}`, undefined, {
      timeout: WAIT,
    });
  }

  /**
   * Waits until `viewer` shows `notice` while `typist` keeps typing. "is typing" goes out as a
   * volatile broadcast, as such notices usually do: a page that is between two polls or in the
   * middle of its upgrade when one goes out misses it, and hears the next, which the typist's
   * page sends at most every TYPING_REPEAT (2 s) while keys are pressed. So the test keeps
   * typing, as a person would, instead of counting on the first notice.
   */
  async function seesTyping(viewer: Page, typist: Page, notice: string): Promise<void> {
    const shown = viewer.locator("#typing", { hasText: notice });
    const input = typist.locator("#message-input");
    for (let attempt = 1; ; attempt++) {
      try {
        await shown.waitFor({ timeout: 3000 });
        return;
      } catch (err) {
        if (attempt === 20) throw err;
      }
      // a change of value is an input event: one more character, then back
      await input.press("!");
      await input.press("Backspace");
    }
  }

  test("two pages chat in a room and see each other's messages and presence; a page in another room sees none of it", {
    skip,
  }, async (t) => {
    ready();
    const url = `${await startDemo(t)}/#chat`;
    const [ada, bob, cy] = await Promise.all([openPage(t, url), openPage(t, url), openPage(t, url)]);
    await enterChat(ada, "Ada", "lobby");
    await enterChat(bob, "Bob", "lobby");
    await enterChat(cy, "Cy", "elsewhere");

    // presence, both ways
    await member(ada, "Bob").waitFor();
    await member(bob, "Ada").waitFor();

    // "is typing…", then the message; the second tick comes from Bob's ack of the broadcast
    await ada.locator("#message-input").fill("Hello Bob");
    await seesTyping(bob, ada, "Ada is typing…");
    await ada.locator("#message-input").press("Enter");
    await message(bob, "Hello Bob").waitFor();
    await ada.locator('#messages .msg.mine[data-status="delivered"]', { hasText: "Hello Bob" }).waitFor();
    await bob.waitForFunction('document.getElementById("typing").textContent === ""');

    await send(bob, "Hi Ada!");
    await message(ada, "Hi Ada!").waitFor();
    assert.equal(await message(ada, "Hello Bob").count(), 1);

    // Cy's own message makes a round trip after theirs, so anything bound for Cy has arrived
    await send(cy, "anyone here?");
    await cy.locator('#messages .msg.mine:is([data-status="sent"], [data-status="delivered"])').waitFor();
    assert.deepEqual(await cy.locator("#messages .msg .text").allTextContents(), ["anyone here?"]);
    assert.deepEqual(await cy.locator("#member-list .member-name").allTextContents(), ["Cy"]);
    assert.equal(await cy.locator("#typing").textContent(), "");
    assert.equal(await message(ada, "anyone here?").count(), 0);

    // joining the room later shows its history
    await cy.locator('#room-list [data-room="lobby"]').click();
    await message(cy, "Hello Bob").waitFor();
    await message(cy, "Hi Ada!").waitFor();
    await member(ada, "Cy").waitFor();
  });

  test("the dashboard shows an order POSTed to /api/orders at once, and one placed with its form", {
    skip,
  }, async (t) => {
    ready();
    const base = await startDemo(t);
    const [first, second] = await Promise.all([openPage(t, `${base}/#dashboard`), openPage(t, `${base}/#dashboard`)]);
    for (const page of [first, second]) {
      await page.locator("#order-product option").first().waitFor({ state: "attached" });
      await page.locator("#chart canvas").first().waitFor();
    }

    const response = await fetch(`${base}/api/orders`, {
      signal: AbortSignal.timeout(WAIT),
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ customer: "Posted Customer", product: "Burr grinder", quantity: 2 }),
    });
    assert.equal(response.status, 201);
    const { order } = (await response.json()) as { order: { id: string } };
    for (const page of [first, second]) {
      const row = page.locator(`#orders-body tr[data-id="${order.id}"]`);
      await row.waitFor();
      assert.match((await row.textContent()) ?? "", /Posted Customer.*Burr grinder.*\$378\.00.*API/);
      await page.locator("#kpi-total", { hasText: /^1$/ }).waitFor();
    }

    await first.locator("#order-customer").fill("Form Customer");
    await first.locator("#order-product").selectOption("Ceramic mug");
    await first.locator("#order-quantity").fill("3");
    await first.locator("#order-form button[type=submit]").click();
    await first.locator("#order-result", { hasText: "placed" }).waitFor();
    const row = second.locator("#orders-body tr", { hasText: "Form Customer" });
    await row.waitFor();
    assert.match((await row.textContent()) ?? "", /Ceramic mug.*\$42\.00.*form/);
  });

  test("after the server restarts, the pages reconnect and a message typed during the outage is delivered once", {
    skip,
  }, async (t) => {
    ready();
    let demo = await DemoProcess.start();
    t.after(() => demo.kill());
    const url = `${demo.url}/#chat`;
    const [ada, bob] = await adaAndBob(t, url, "restart");
    await send(ada, "before the restart");
    await message(bob, "before the restart").waitFor();

    await demo.kill();
    await Promise.all([waitForConnection(ada, "reconnecting"), waitForConnection(bob, "reconnecting")]);
    await send(ada, "typed while offline");
    await ada.locator('#messages .msg.mine[data-status="pending"]', { hasText: "typed while offline" }).waitFor();

    demo = await DemoProcess.start(demo.port);
    await Promise.all([waitForConnection(ada, "connected"), waitForConnection(bob, "connected")]);
    await ada
      .locator('#messages .msg.mine:is([data-status="sent"], [data-status="delivered"])', {
        hasText: "typed while offline",
      })
      .waitFor();
    await message(bob, "typed while offline").waitFor();
    // both joined the room again, so presence is back
    await member(ada, "Bob").waitFor();
    await member(bob, "Ada").waitFor();
    // a later message has made a round trip, so a duplicate would have arrived by now
    await send(bob, "welcome back");
    await message(ada, "welcome back").waitFor();
    assert.equal(await message(bob, "typed while offline").count(), 1);
    assert.equal(await message(ada, "typed while offline").count(), 1);
    assert.equal(await message(bob, "before the restart").count(), 1);
  });

  test("a message typed offline for a room the page then leaves is still delivered there, once", {
    skip,
  }, async (t) => {
    ready();
    let demo = await DemoProcess.start();
    t.after(() => demo.kill());
    const url = `${demo.url}/#chat`;
    const [ada, bob] = await adaAndBob(t, url, "first");

    await demo.kill();
    await waitForConnection(ada, "reconnecting");
    await send(ada, "left behind");
    await ada.locator('#messages .msg.mine[data-status="pending"]', { hasText: "left behind" }).waitFor();
    await ada.locator("#room-input").fill("second");
    await ada.locator("#room-form button[type=submit]").click();
    await ada.locator("#room-title", { hasText: "# second" }).waitFor();

    demo = await DemoProcess.start(demo.port);
    await message(bob, "left behind").waitFor();
    await member(ada, "Ada").waitFor(); // the page is back in its own room
    await ada.locator('#room-list [data-room="first"]').click();
    await ada
      .locator('#messages .msg.mine:is([data-status="sent"], [data-status="delivered"])', { hasText: "left behind" })
      .waitFor();
    // a later message has made a round trip, so a duplicate would have arrived by now
    await send(bob, "got it");
    await message(ada, "got it").waitFor();
    assert.equal(await message(ada, "left behind").count(), 1);
    assert.equal(await message(bob, "left behind").count(), 1);
  });
});
