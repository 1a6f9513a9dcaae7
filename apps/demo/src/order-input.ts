import type { OrderInput, Product } from "./events.js";
import { hasHiddenCharacters, hasVisibleCharacters } from "./visible-text.js";

/** What the simulated shop sells. */
export const CATALOG: readonly Product[] = [
  { name: "Espresso beans 1 kg", price: 24 },
  { name: "Pour-over kettle", price: 59 },
  { name: "Ceramic mug", price: 14 },
  { name: "Burr grinder", price: 189 },
  { name: "Filter papers (100)", price: 6.5 },
  { name: "Cold brew kit", price: 39 },
];

export const ORDER_LIMITS = {
  /** Longest customer or product name, in characters. */
  maxText: 40,
  maxQuantity: 100,
  maxPrice: 10_000,
} as const;

export type OrderInputResult = { ok: true; input: Required<OrderInput> } | { ok: false; error: string };

function text(value: unknown, field: string): string | { error: string } {
  if (typeof value !== "string") return { error: `${field} must be a string` };
  const trimmed = value.trim();
  if (trimmed.length === 0) return { error: `${field} must not be empty` };
  if (trimmed.length > ORDER_LIMITS.maxText)
    return { error: `${field} must be at most ${ORDER_LIMITS.maxText} characters` };
  if (hasHiddenCharacters(trimmed)) {
    return { error: `${field} must not contain control, format or line separator characters` };
  }
  if (!hasVisibleCharacters(trimmed)) return { error: `${field} must contain a visible character` };
  return trimmed;
}

/**
 * Checks an order from `POST /api/orders` or the page's form, which may be anything: the
 * customer and product are trimmed strings of 1 to 40 characters, some visible and none hidden
 * (control, format or line separator characters), the quantity a whole number from 1 to 100,
 * and the unit price a number of whole cents from 0.01 to 10,000, which may be left out for a
 * product of the catalog (its catalog price is then used).
 */
export function parseOrderInput(value: unknown): OrderInputResult {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, error: "the order must be a JSON object" };
  }
  const body = value as Record<string, unknown>;
  const customer = text(body.customer, "customer");
  if (typeof customer !== "string") return { ok: false, ...customer };
  const product = text(body.product, "product");
  if (typeof product !== "string") return { ok: false, ...product };
  const quantity = body.quantity;
  if (
    typeof quantity !== "number" ||
    !Number.isInteger(quantity) ||
    quantity < 1 ||
    quantity > ORDER_LIMITS.maxQuantity
  ) {
    return { ok: false, error: `quantity must be a whole number from 1 to ${ORDER_LIMITS.maxQuantity}` };
  }
  let price = body.price;
  if (price === undefined) {
    price = CATALOG.find((p) => p.name === product)?.price;
    if (price === undefined) return { ok: false, error: "price is required for a product not in the catalog" };
  }
  if (typeof price !== "number" || !Number.isFinite(price) || price < 0.01 || price > ORDER_LIMITS.maxPrice) {
    return { ok: false, error: `price must be a number from 0.01 to ${ORDER_LIMITS.maxPrice}` };
  }
  // a decimal with at most two places parses to the double nearest to cents / 100, as the division gives
  if (Math.round(price * 100) / 100 !== price) return { ok: false, error: "price must be in whole cents" };
  return { ok: true, input: { customer, product, quantity, price } };
}
