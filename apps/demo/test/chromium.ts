import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

/** Debian's Chromium; playwright-core cannot download a browser of its own here. */
export const CHROMIUM = "/usr/bin/chromium";

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
  "--no-first-run",
];

/**
 * Why the browser tests are skipped, or false when they run. Under CI=true they always run, so a
 * missing Chromium fails them instead of passing quietly.
 */
export function skipWithoutChromium(): string | false {
  if (process.env.CI === "true" || existsSync(CHROMIUM)) return false;
  return `Chromium not found at ${CHROMIUM} (apt-get install chromium); under CI=true this fails instead`;
}

/** Launches headless Chromium; each launch gets a fresh temporary profile (user data dir) from playwright. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is missing at ${CHROMIUM}: the browser tests need Debian's chromium package`);
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 120_000 });
}
