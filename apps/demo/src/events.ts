// The demo's wire contract: the events of each namespace and the shapes they carry. Types only,
// shared by the server (src/) and the page (web/), which imports them with `import type`.

// ---- "/": status ----

/** Events the page sends on the main namespace. */
export interface StatusClientEvents {
  /** Answered at once; the page times the round trip. */
  ping: (ack: () => void) => void;
}

/** Events the server sends on the main namespace. */
export interface StatusServerEvents {
  /** How many pages are connected, sent whenever it changes. */
  clients: (count: number) => void;
}

// ---- "/chat" ----

/** A chat message as the server stores and relays it. */
export interface ChatMessage {
  /** Chosen by the sending page, so a message sent again after a reconnect is stored once. */
  id: string;
  room: string;
  name: string;
  text: string;
  /** When the server stored it (ms since the epoch). */
  at: number;
}

/** A room the rooms list shows: the default rooms, and any with members or messages. */
export interface RoomSummary {
  name: string;
  members: number;
}

export interface JoinRequest {
  room: string;
  name: string;
}

export type JoinReply =
  | { ok: true; room: string; name: string; history: ChatMessage[]; members: string[] }
  /** `field` names what was refused: the room (a bad name, or no room left for a new one) or the name. */
  | { ok: false; error: string; field?: "room" | "name" };

export interface MessageDraft {
  id: string;
  room: string;
  text: string;
}

export type SendReply = { ok: true; message: ChatMessage } | { ok: false; error: string };

/** Events the page sends on "/chat". */
export interface ChatClientEvents {
  /** Leaves the current room, joins `room` under `name`; the reply carries its last messages and members. */
  join: (request: JoinRequest, ack: (reply: JoinReply) => void) => void;
  /** Needs `room` joined; the reply carries the stored message (a repeated id gets the stored one again). */
  message: (draft: MessageDraft, ack: (reply: SendReply) => void) => void;
  typing: (typing: boolean) => void;
}

/** Events the server sends on "/chat". */
export interface ChatServerEvents {
  /** A message from someone else in the room; the page acks it, which drives the sender's second tick. */
  message: (message: ChatMessage, ack: () => void) => void;
  /** `count` members of the room have received the sender's message `id`. */
  delivered: (id: string, count: number) => void;
  typing: (name: string, typing: boolean) => void;
  presence: (room: string, members: string[]) => void;
  rooms: (rooms: RoomSummary[]) => void;
}

// ---- "/dashboard" ----

export type OrderSource = "simulated" | "api" | "form";

export interface Order {
  id: string;
  /** ms since the epoch */
  at: number;
  customer: string;
  product: string;
  quantity: number;
  /** Total in dollars, to the cent. */
  amount: number;
  source: OrderSource;
}

/** What a new order needs; `price` (per unit) may be left out for a product of the catalog. */
export interface OrderInput {
  customer: string;
  product: string;
  quantity: number;
  price?: number;
}

export interface Product {
  name: string;
  price: number;
}

/** Orders and revenue in one whole second. */
export interface SecondStats {
  /** Seconds since the epoch. */
  t: number;
  orders: number;
  revenue: number;
}

export interface Totals {
  orders: number;
  revenue: number;
}

/** What a dashboard gets on connecting. */
export interface DashboardSnapshot {
  catalog: Product[];
  /** The last minute, oldest first, one entry per second (zeros included). */
  series: SecondStats[];
  /** The latest orders, newest first. */
  latest: Order[];
  totals: Totals;
}

export type CreateOrderReply = { ok: true; order: Order } | { ok: false; error: string };

/** Events the page sends on "/dashboard". */
export interface DashboardClientEvents {
  create: (input: OrderInput, ack: (reply: CreateOrderReply) => void) => void;
}

/** Events the server sends on "/dashboard". */
export interface DashboardServerEvents {
  snapshot: (snapshot: DashboardSnapshot) => void;
  order: (order: Order, totals: Totals) => void;
  second: (stats: SecondStats) => void;
}
