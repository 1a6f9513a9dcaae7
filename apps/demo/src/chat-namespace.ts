import type { DefaultEventsMap, Namespace } from "tutti";
import { CHAT_LIMITS, ChatRooms, memberName, roomName } from "./chat-rooms.js";
import { requestAndAck } from "./event-args.js";
import type {
  ChatClientEvents,
  ChatServerEvents,
  JoinReply,
  JoinRequest,
  MessageDraft,
  RoomSummary,
  SendReply,
} from "./events.js";

/** What the server remembers of a chat socket: the name and room it joined under. */
export interface ChatSocketData {
  name?: string;
  room?: string;
}

export type ChatNamespace = Namespace<ChatClientEvents, ChatServerEvents, DefaultEventsMap, ChatSocketData>;

/** Shortest time between two "is typing" notices a socket's room hears from it, in ms. */
export const TYPING_INTERVAL = 500;

export interface ChatOptions {
  now: () => number;
  /** How long a message's broadcast waits for the members' acks before telling the sender (10000 ms). */
  deliveryTimeout?: number;
}

/**
 * The chat on `nsp`: one room per socket at a time, the room's last messages on joining,
 * presence, typing, and delivery acks. A socket forgets its room when it reconnects (a new
 * socket), so the page joins again on every connect. Returns a function that stops its timer.
 */
export function setupChat(nsp: ChatNamespace, opts: ChatOptions): () => void {
  const rooms = new ChatRooms(opts.now);
  const deliveryTimeout = opts.deliveryTimeout ?? 10_000;
  let roomsTimer: NodeJS.Timeout | undefined;

  const summaries = (): RoomSummary[] => {
    const names = new Map<string, Set<string>>();
    for (const socket of nsp.sockets.values()) {
      const { room, name } = socket.data;
      if (room === undefined || name === undefined) continue;
      names.set(room, (names.get(room) ?? new Set()).add(name));
    }
    return rooms.names().map((name) => ({ name, members: names.get(name)?.size ?? 0 }));
  };

  // joins and leaves come in bursts (a page reloads, a server restarts): one rooms list per burst
  const announceRooms = (): void => {
    if (roomsTimer !== undefined) return;
    roomsTimer = setTimeout(() => {
      roomsTimer = undefined;
      nsp.emit("rooms", summaries());
    }, 100);
    roomsTimer.unref();
  };

  const members = async (room: string): Promise<string[]> => {
    const sockets = await nsp.in(room).fetchSockets();
    const names = new Set<string>();
    for (const socket of sockets) if (socket.data.name !== undefined) names.add(socket.data.name);
    return [...names].sort((a, b) => a.localeCompare(b));
  };

  const announcePresence = async (room: string): Promise<void> => {
    nsp.to(room).emit("presence", room, await members(room));
  };

  nsp.on("connection", (socket) => {
    socket.emit("rooms", summaries());
    /** Whether the room last heard "typing" (not a stop) from this socket, and when it last heard a start. */
    let typingRelayed = false;
    let startRelayedAt = Number.NEGATIVE_INFINITY;

    const leaveRoom = (): void => {
      const { room, name } = socket.data;
      if (room === undefined) return;
      socket.leave(room);
      socket.data.room = undefined;
      if (name !== undefined && typingRelayed) nsp.to(room).emit("typing", name, false);
      typingRelayed = false;
      if (!nsp.adapter.rooms.has(room)) rooms.vacated(room);
      void announcePresence(room);
    };

    const join = async (request: unknown, ack: unknown): Promise<void> => {
      if (!socket.connected) return; // gone while earlier joins were handled
      const [input, reply] = requestAndAck<JoinReply>(request, ack);
      const fields = typeof input === "object" && input !== null ? (input as Partial<JoinRequest>) : {};
      const room = roomName(fields.room);
      const name = memberName(fields.name);
      if (room === undefined) {
        return reply({ ok: false, field: "room", error: "room names are 1 to 24 letters, digits or dashes" });
      }
      if (name === undefined) {
        return reply({ ok: false, field: "name", error: "names are 1 to 24 characters, some visible, none invisible" });
      }
      if (!rooms.open(room, (r) => nsp.adapter.rooms.has(r))) {
        const error = `the chat has ${CHAT_LIMITS.rooms} rooms in use: join one of them`;
        return reply({ ok: false, field: "room", error });
      }
      if (socket.data.room !== room) leaveRoom();
      socket.data.name = name;
      socket.data.room = room;
      socket.join(room);
      const history = rooms.history(room);
      const names = await members(room);
      if (socket.data.room !== room) return; // disconnected while waiting
      reply({ ok: true, room, name, history, members: names });
      void announcePresence(room);
      announceRooms();
    };
    // One join at a time, so that each reply tells how things stand when it is sent (joins that
    // overlapped could otherwise both answer ok, in either order).
    let joining = Promise.resolve();
    socket.on("join", (request: unknown, ack: unknown) => {
      joining = joining.then(() => join(request, ack)).catch((err: unknown) => console.error("chat: join failed", err));
    });

    socket.on("message", (request: unknown, ack: unknown) => {
      const [draft, reply] = requestAndAck<SendReply>(request, ack);
      if (typeof draft !== "object" || draft === null) return reply({ ok: false, error: "the message is missing" });
      const { id, room: to, text } = draft as Partial<MessageDraft>;
      const { room, name } = socket.data;
      if (room === undefined || name === undefined || to !== room) {
        return reply({ ok: false, error: "join the room first" });
      }
      const result = rooms.add(room, name, id, text);
      if ("error" in result) return reply({ ok: false, error: result.error });
      reply({ ok: true, message: result.message });
      // a duplicate is a resend whose first copy was stored and relayed, but whose ack was lost
      if (result.duplicate) return;
      socket
        .to(room)
        .timeout(deliveryTimeout)
        .emit("message", result.message, (_err, acks) => {
          // on timeout, `acks` holds the answers that did come
          if (acks.length > 0 && socket.connected) socket.emit("delivered", result.message.id, acks.length);
        });
    });

    // A page says "typing" every few seconds while typing, but a client may say it far more
    // often: a start is relayed at most every TYPING_INTERVAL ms, a stop only after a start.
    socket.on("typing", (typing) => {
      const { room, name } = socket.data;
      if (room === undefined || name === undefined) return;
      const now = opts.now();
      if (typing === true) {
        if (now - startRelayedAt < TYPING_INTERVAL) return;
        startRelayedAt = now;
      } else if (!typingRelayed) return;
      typingRelayed = typing === true;
      socket.to(room).volatile.emit("typing", name, typingRelayed);
    });

    socket.on("disconnect", () => {
      leaveRoom();
      announceRooms();
    });
  });

  return () => clearTimeout(roomsTimer);
}
