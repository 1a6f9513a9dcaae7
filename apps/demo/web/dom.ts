/** The element with `id`; the page's markup has it, so a missing one is a bug worth a loud error. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`#${id} is missing from index.html`);
  return element as T;
}

/** A new element with a class and text (set as text, never parsed as HTML). */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (className !== undefined) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const clockSeconds = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const money = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
const moneyShort = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", maximumFractionDigits: 0 });

export const format = {
  time: (ms: number): string => clock.format(ms),
  timeSeconds: (ms: number): string => clockSeconds.format(ms),
  money: (n: number): string => money.format(n),
  moneyShort: (n: number): string => moneyShort.format(n),
};

/** A random id that also works outside a secure context, where crypto.randomUUID is missing. */
export function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A stable hue for a name, so each person keeps their avatar colour. */
export function hue(name: string): number {
  let h = 0;
  for (const ch of name) h = (h * 31 + (ch.codePointAt(0) ?? 0)) % 360;
  return h;
}

export function initials(name: string): string {
  const words = name.match(/[\p{L}\p{N}]+/gu) ?? ["?"];
  const first = words[0]?.[0] ?? "?";
  const last = words.length > 1 ? (words[words.length - 1]?.[0] ?? "") : "";
  return (first + last).toUpperCase();
}

/** A round avatar with the name's initials. */
export function avatar(name: string): HTMLSpanElement {
  const span = el("span", "avatar", initials(name));
  span.style.setProperty("--hue", String(hue(name)));
  span.setAttribute("aria-hidden", "true");
  return span;
}
