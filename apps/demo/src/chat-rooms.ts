import type { ChatMessage } from "./events.js";

export const CHAT_LIMITS = {
  /** Messages a room keeps and shows on joining. */
  history: 50,
  /** Message ids a room remembers for dedupe: a resend older than this many messages is stored again. */
  dedupe: 1000,
  /** Rooms kept at once; past it, the room quiet for longest and empty of members is forgotten. */
  rooms: 100,
  /** Longest message, in characters. */
  text: 500,
  /** Longest room or member name, in characters. */
  name: 24,
} as const;

/** Rooms that always exist. */
export const DEFAULT_ROOMS = ["general", "random"] as const;

interface Room {
  history: ChatMessage[];
  /** id → stored message, in insertion order, so the oldest is dropped first. */
  seen: Map<string, ChatMessage>;
  lastActive: number;
}

export type AddResult = { message: ChatMessage; duplicate: boolean } | { error: string };

/** A room name: lower case letters, digits and dashes (spaces become dashes), 1 to 24 long. */
export function roomName(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const name = value.trim().toLowerCase().replace(/^#/, "").replace(/\s+/g, "-");
  return name.length > 0 && name.length <= CHAT_LIMITS.name && /^[a-z0-9][a-z0-9-]*$/.test(name) ? name : undefined;
}

/** A member name: trimmed, 1 to 24 characters, no control characters. */
export function memberName(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const name = value.trim().replace(/\s+/g, " ");
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses
  return name.length > 0 && name.length <= CHAT_LIMITS.name && !/[\u0000-\u001f\u007f]/.test(name) ? name : undefined;
}

/**
 * The chat's rooms and their last messages, in memory and bounded (CHAT_LIMITS). A message is
 * stored once per id: the same id sent again (a page resending after a reconnect) gets the stored
 * message back, marked duplicate, so the caller neither stores nor relays it twice.
 */
export class ChatRooms {
  readonly #now: () => number;
  readonly #rooms = new Map<string, Room>();

  constructor(now: () => number) {
    this.#now = now;
  }

  /** Names of the rooms kept, the default ones first. */
  names(): string[] {
    return [...new Set<string>([...DEFAULT_ROOMS, ...this.#rooms.keys()])];
  }

  history(room: string): ChatMessage[] {
    return [...(this.#rooms.get(room)?.history ?? [])];
  }

  /** Makes sure `room` is kept; `occupied` tells which rooms have members and must not be evicted. */
  open(room: string, occupied: (room: string) => boolean): void {
    const existing = this.#rooms.get(room);
    if (existing !== undefined) {
      existing.lastActive = this.#now();
      return;
    }
    if (this.#rooms.size >= CHAT_LIMITS.rooms) {
      let quietest: [string, Room] | undefined;
      for (const entry of this.#rooms) {
        if (occupied(entry[0])) continue;
        if (quietest === undefined || entry[1].lastActive < quietest[1].lastActive) quietest = entry;
      }
      if (quietest !== undefined) this.#rooms.delete(quietest[0]);
    }
    this.#rooms.set(room, { history: [], seen: new Map(), lastActive: this.#now() });
  }

  add(room: string, name: string, id: unknown, text: unknown): AddResult {
    if (typeof id !== "string" || id.length === 0 || id.length > 64) return { error: "bad message id" };
    if (typeof text !== "string") return { error: "text must be a string" };
    const trimmed = text.trim();
    if (trimmed.length === 0) return { error: "empty message" };
    if (trimmed.length > CHAT_LIMITS.text) return { error: `messages are at most ${CHAT_LIMITS.text} characters` };
    const state = this.#rooms.get(room);
    if (state === undefined) return { error: "no such room" };
    const stored = state.seen.get(id);
    if (stored !== undefined) {
      return stored.name === name ? { message: stored, duplicate: true } : { error: "message id already used" };
    }
    const message: ChatMessage = { id, room, name, text: trimmed, at: this.#now() };
    state.history.push(message);
    if (state.history.length > CHAT_LIMITS.history) state.history.shift();
    state.seen.set(id, message);
    if (state.seen.size > CHAT_LIMITS.dedupe) state.seen.delete(state.seen.keys().next().value as string);
    state.lastActive = message.at;
    return { message, duplicate: false };
  }
}
