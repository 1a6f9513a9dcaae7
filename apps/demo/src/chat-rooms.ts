import type { ChatMessage } from "./events.js";
import { hasHiddenCharacters, hasVisibleCharacters } from "./visible-text.js";

export const CHAT_LIMITS = {
  /** Messages a room keeps and shows on joining. */
  history: 50,
  /** Message ids a room remembers for dedupe: a resend older than this many messages is stored again. */
  dedupe: 1000,
  /**
   * Rooms kept at once, the default ones included. A new room past it takes the place of the
   * room with no members that is quiet for longest (one without messages first); when every
   * room has members, no new room is made.
   */
  rooms: 100,
  /** Longest message, in characters. */
  text: 500,
  /** Longest room or member name, in characters. */
  name: 24,
} as const;

/** Rooms that always exist. */
export const DEFAULT_ROOMS = ["general", "random"] as const;

/** What dedupe needs of a message once stored: who sent it and when it was stored. */
interface SeenMessage {
  name: string;
  at: number;
}

interface Room {
  history: ChatMessage[];
  /** id → the stored message's sender and time, in insertion order, so the oldest is dropped first. */
  seen: Map<string, SeenMessage>;
  lastActive: number;
}

export type AddResult = { message: ChatMessage; duplicate: boolean } | { error: string };

/** A room name: lower case letters, digits and dashes (spaces become dashes), 1 to 24 long. */
export function roomName(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const name = value.trim().toLowerCase().replace(/^#/, "").replace(/\s+/g, "-");
  return name.length > 0 && name.length <= CHAT_LIMITS.name && /^[a-z0-9][a-z0-9-]*$/.test(name) ? name : undefined;
}

/** A member name: trimmed, 1 to 24 characters, some visible, none hidden (control, format, separators). */
export function memberName(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const name = value.trim().replace(/\s+/g, " ");
  return name.length <= CHAT_LIMITS.name && hasVisibleCharacters(name) && !hasHiddenCharacters(name) ? name : undefined;
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
    for (const room of DEFAULT_ROOMS) this.#rooms.set(room, this.#newRoom());
  }

  /** Names of the rooms kept, the default ones first: those and the rooms with members or messages. */
  names(): string[] {
    return [...this.#rooms.keys()];
  }

  history(room: string): ChatMessage[] {
    return [...(this.#rooms.get(room)?.history ?? [])];
  }

  /**
   * Makes sure `room` is kept; `occupied` tells which rooms have members, which are never
   * dropped. Returns false when `room` is new and no room can make way for it.
   */
  open(room: string, occupied: (room: string) => boolean): boolean {
    const existing = this.#rooms.get(room);
    if (existing !== undefined) {
      existing.lastActive = this.#now();
      return true;
    }
    if (this.#rooms.size >= CHAT_LIMITS.rooms) {
      let quietest: [string, Room] | undefined;
      for (const entry of this.#rooms) {
        if (this.#isDefault(entry[0]) || occupied(entry[0])) continue;
        if (quietest === undefined || this.#quieter(entry[1], quietest[1])) quietest = entry;
      }
      if (quietest === undefined) return false;
      this.#rooms.delete(quietest[0]);
    }
    this.#rooms.set(room, this.#newRoom());
    return true;
  }

  /** Called when the last member has left `room`: a room other than the default ones with no messages is forgotten. */
  vacated(room: string): void {
    if (!this.#isDefault(room) && this.#rooms.get(room)?.history.length === 0) this.#rooms.delete(room);
  }

  add(room: string, name: string, id: unknown, text: unknown): AddResult {
    if (typeof id !== "string" || id.length === 0 || id.length > 64) return { error: "bad message id" };
    if (typeof text !== "string") return { error: "text must be a string" };
    const trimmed = text.trim();
    if (trimmed.length === 0) return { error: "empty message" };
    if (trimmed.length > CHAT_LIMITS.text) return { error: `messages are at most ${CHAT_LIMITS.text} characters` };
    const state = this.#rooms.get(room);
    if (state === undefined) return { error: "no such room" };
    const seen = state.seen.get(id);
    if (seen !== undefined) {
      if (seen.name !== name) return { error: "message id already used" };
      // past the history only the sender and time are kept: the resend's text stands for the stored one
      const stored = state.history.find((m) => m.id === id) ?? { id, room, name, text: trimmed, at: seen.at };
      return { message: stored, duplicate: true };
    }
    const message: ChatMessage = { id, room, name, text: trimmed, at: this.#now() };
    state.history.push(message);
    if (state.history.length > CHAT_LIMITS.history) state.history.shift();
    state.seen.set(id, { name, at: message.at });
    if (state.seen.size > CHAT_LIMITS.dedupe) state.seen.delete(state.seen.keys().next().value as string);
    state.lastActive = message.at;
    return { message, duplicate: false };
  }

  #newRoom(): Room {
    return { history: [], seen: new Map(), lastActive: this.#now() };
  }

  #isDefault(room: string): boolean {
    return (DEFAULT_ROOMS as readonly string[]).includes(room);
  }

  /** Whether `a` is sooner dropped than `b`: a room without messages first, then the one quiet for longest. */
  #quieter(a: Room, b: Room): boolean {
    const aEmpty = a.history.length === 0;
    if (aEmpty !== (b.history.length === 0)) return aEmpty;
    return a.lastActive < b.lastActive;
  }
}
