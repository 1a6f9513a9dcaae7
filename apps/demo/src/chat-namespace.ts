import type { DefaultEventsMap, Namespace } from "tutti";
import { ChatRooms, memberName, roomName } from "./chat-rooms.js";
import type { ChatClientEvents, ChatServerEvents, RoomSummary } from "./events.js";

/** What the server remembers of a chat socket: the name and room it joined under. */
export interface ChatSocketData {
  name?: string;
  room?: string;
}

export type ChatNamespace = Namespace<ChatClientEvents, ChatServerEvents, DefaultEventsMap, ChatSocketData>;

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

    const leaveRoom = (): void => {
      const { room, name } = socket.data;
      if (room === undefined) return;
      socket.leave(room);
      socket.data.room = undefined;
      if (name !== undefined) nsp.to(room).emit("typing", name, false);
      void announcePresence(room);
    };

    socket.on("join", async (request, ack) => {
      if (typeof ack !== "function") return;
      const room = roomName(request?.room);
      const name = memberName(request?.name);
      if (room === undefined) return ack({ ok: false, error: "room names are 1 to 24 letters, digits or dashes" });
      if (name === undefined) return ack({ ok: false, error: "names are 1 to 24 characters" });
      if (socket.data.room !== room) leaveRoom();
      rooms.open(room, (r) => nsp.adapter.rooms.has(r));
      socket.data.name = name;
      socket.data.room = room;
      socket.join(room);
      ack({ ok: true, room, name, history: rooms.history(room), members: await members(room) });
      void announcePresence(room);
      announceRooms();
    });

    socket.on("message", (draft, ack) => {
      if (typeof ack !== "function") return;
      const { room, name } = socket.data;
      if (room === undefined || name === undefined || draft?.room !== room) {
        return ack({ ok: false, error: "join the room first" });
      }
      const result = rooms.add(room, name, draft.id, draft.text);
      if ("error" in result) return ack({ ok: false, error: result.error });
      ack({ ok: true, message: result.message });
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

    socket.on("typing", (typing) => {
      const { room, name } = socket.data;
      if (room !== undefined && name !== undefined) socket.to(room).volatile.emit("typing", name, typing === true);
    });

    socket.on("disconnect", () => {
      leaveRoom();
      announceRooms();
    });
  });

  return () => clearTimeout(roomsTimer);
}
